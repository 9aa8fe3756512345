"""What the HTTP tests assert of every answer: the status they expect, and for a refusal a
problem+json body naming the field at fault."""

PROBLEM = "application/problem+json"


def ok(response, status=200):
    """The JSON body of an answer with ``status``."""
    assert response.status_code == status, response.text
    return response.json()


def refused(response, status, field=None):
    """The problem+json body of a refusal with ``status`` (naming ``field``, if given)."""
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status
    if field:
        assert field in body["errors"], body
    return body
