"""The API documentation page in a real browser: it works with no internet access, within the
gateway's Content-Security-Policy."""
from __future__ import annotations


def test_the_api_docs_render_offline_within_the_content_security_policy(stack, watched):
    page = watched.page
    page.goto(f"{stack.base_url}/api/v1/docs")
    page.wait_for_selector(".opblock", timeout=30_000)  # the operations are listed
    assert page.locator(".opblock").count() > 50
    assert page.get_by_text("/api/v1/customers/{customer_id}", exact=True).count() >= 1
    watched.screenshot("api-docs")
    assert watched.outside == []
    assert watched.csp_violations() == []
    assert watched.errors == []
