"""The web console in a real Chromium against the real stack: a rep's first tour, the same in
Chinese on a phone, and the checks every screen passes (no request leaves the machine, no
Content-Security-Policy violation, no script error, no serious accessibility violation)."""
from __future__ import annotations

import datetime as dt
import re
import uuid

import requests
from playwright.sync_api import expect

from tests.support.stack import ADMIN_PASSWORD, DEMO_PASSWORD

XSS_NAME = "<img src=x onerror=alert(1)>"
DEADLINE_MS = 30_000


def sign_in(page, base_url: str, username: str = "sam") -> None:
    page.goto(f"{base_url}/")
    page.get_by_label(re.compile("Username|用户名")).fill(username)
    page.get_by_label(re.compile("Password|密码")).fill(DEMO_PASSWORD)
    page.get_by_role("button", name=re.compile("Sign in|登录")).click()
    expect(page.locator("header nav")).to_be_visible(timeout=DEADLINE_MS)


def checked(watched, screen: str) -> None:
    """The checks every screen passes, and its screenshot: no error said to the reader but
    beside a field, nothing from elsewhere, no policy violation, no script error, no
    serious accessibility violation."""
    watched.screenshot(screen)
    said = watched.page.locator("main .error[role=alert]")
    assert said.count() == 0, f"{screen}: {said.all_inner_texts()}"
    assert watched.outside == [], screen
    assert watched.csp_violations() == [], screen
    assert watched.unexpected_errors() == [], screen
    assert watched.accessibility_violations() == [], screen


def test_a_rep_creates_a_customer_logs_a_follow_up_and_sees_its_reminder_arrive(
        stack, watched):
    page = watched.page
    page.goto(f"{stack.base_url}/")
    expect(page.get_by_role("heading", name="Sign in to the CRM")).to_be_visible()
    checked(watched, "sign-in")

    sign_in(page, stack.base_url)
    expect(page.get_by_role("heading", name="My day")).to_be_visible()
    badge = page.get_by_label("Unread notifications")
    expect(badge).to_have_text(re.compile(r"^\d+$"), timeout=DEADLINE_MS)
    unread_before = int(badge.inner_text())
    checked(watched, "home")

    page.get_by_role("link", name="Customers", exact=True).click()
    expect(page.get_by_text(re.compile(r"^\d+ customers$"))).to_be_visible(timeout=DEADLINE_MS)
    checked(watched, "customers")

    # A name that is markup shows as text: no image, no script run (a dialog would be noted).
    name = f"{XSS_NAME} {uuid.uuid4().hex[:8]}"
    page.get_by_role("link", name="New customer").click()
    page.get_by_role("button", name="Create").click()  # no name: the field says why
    expect(page.locator("#name-error")).to_be_visible()
    checked(watched, "customer-new-errors")
    page.get_by_label("Name").fill(name)
    page.get_by_label("City").fill("杭州")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("heading", name=name)).to_be_visible(timeout=DEADLINE_MS)
    assert page.locator("main img").count() == 0
    checked(watched, "customer-detail")

    due = dt.datetime.now() + dt.timedelta(seconds=5)  # the browser's local time
    page.get_by_label("What happened").select_option("call")
    page.get_by_label("Notes").last.fill("Called about the offer")
    page.get_by_label("Next follow-up (optional)").fill(due.strftime("%Y-%m-%dT%H:%M:%S"))
    page.get_by_role("button", name="Log it").click()
    expect(page.get_by_text("Called about the offer")).to_be_visible(timeout=DEADLINE_MS)

    # The reminder is sent when due and lands in the inbox: the count polled by the page rises.
    expect(badge).not_to_have_text(str(unread_before), timeout=60_000)
    assert int(badge.inner_text()) > unread_before
    checked(watched, "customer-detail-logged")
    detail = page.url

    badge.click()  # the inbox: the reminder is there; marking all read empties the count
    expect(page.get_by_role("heading", name="Inbox")).to_be_visible()
    expect(page.get_by_text(f"Follow up with {name}")).to_be_visible(timeout=DEADLINE_MS)
    checked(watched, "inbox")
    page.get_by_role("button", name="Mark all read").click()
    expect(badge).to_have_text("0", timeout=DEADLINE_MS)
    page.goto(detail)

    # A reload signs back in from the session's cookie (no password asked).
    page.reload()
    expect(page.get_by_role("heading", name=name)).to_be_visible(timeout=DEADLINE_MS)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in to the CRM")).to_be_visible()
    page.reload()
    expect(page.get_by_role("heading", name="Sign in to the CRM")).to_be_visible()


def test_the_console_in_chinese_on_a_phone(stack, users, watched_phone):
    page = watched_phone.page
    sign_in(page, stack.base_url, "sara")
    page.get_by_label("Language").select_option("zh-CN")
    expect(page.get_by_role("heading", name="我的一天")).to_be_visible()
    page.reload()  # remembered
    expect(page.get_by_role("heading", name="我的一天")).to_be_visible(timeout=DEADLINE_MS)
    checked(watched_phone, "phone-home-zh")

    page.get_by_role("link", name="客户", exact=True).tap()
    expect(page.get_by_role("heading", name="客户")).to_be_visible()
    page.get_by_role("link", name="新建客户").tap()
    page.get_by_role("button", name="创建").tap()
    expect(page.locator("#name-error")).to_be_visible()  # the API's message, in Chinese
    assert re.search(r"[\u4e00-\u9fff]", page.locator("#name-error").inner_text())
    checked(watched_phone, "phone-customer-new-zh")
    page.get_by_label("名称").fill(f"手机客户 {uuid.uuid4().hex[:6]}")
    page.get_by_role("button", name="创建").tap()
    expect(page.get_by_role("heading", name=re.compile("手机客户"))).to_be_visible(
        timeout=DEADLINE_MS)
    checked(watched_phone, "phone-customer-detail-zh")
    detail = page.url[page.url.index("#"):]
    deal = users["sara"].post("/deals", json={"customer_id": detail.rsplit("/", 1)[1],
                                              "title": "手机商机"}).json()
    for screen in ("#/", "#/customers", "#/customers/new", detail, f"{detail}/edit",
                   f"#/deals/{deal['id']}",
                   "#/customers/trash", "#/leads", "#/leads/new", "#/pipeline",
                   "#/reports/funnel", "#/reports/revenue", "#/import", "#/inbox"):
        page.goto(f"{stack.base_url}/{screen}")
        page.wait_for_load_state("networkidle")
        expect(page.locator("main h1")).to_be_visible(timeout=DEADLINE_MS)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{screen} scrolls sideways: {width} px"
        name = re.sub(r"[0-9a-f-]{36}", "one", screen.strip("#/")).replace("/", "-")
        checked(watched_phone, f"phone-{name or 'home'}-zh")


def test_the_rep_tour_in_chinese_on_a_desktop(stack, watched):
    """The first tour again in Chinese: a customer, a visit logged with its next follow-up due
    in seconds, its reminder arriving in the count and the inbox, then a deal opened and won
    from the board with its amount asked."""
    page = watched.page
    sign_in(page, stack.base_url, "sara")
    page.get_by_label("Language").select_option("zh-CN")
    expect(page.get_by_role("heading", name="我的一天")).to_be_visible(timeout=DEADLINE_MS)
    badge = page.get_by_label(re.compile("条未读通知"))
    expect(badge).to_have_text(re.compile(r"^\d+$"), timeout=DEADLINE_MS)
    unread_before = int(badge.inner_text())

    page.get_by_role("link", name="客户", exact=True).click()
    page.get_by_role("link", name="新建客户").click()
    name = f"杭州客户 {uuid.uuid4().hex[:6]}"
    page.get_by_label("名称").fill(name)
    page.get_by_role("button", name="创建").click()
    expect(page.get_by_role("heading", name=name)).to_be_visible(timeout=DEADLINE_MS)
    detail = page.url

    due = dt.datetime.now() + dt.timedelta(seconds=5)  # the browser's local time
    page.get_by_label("跟进方式").select_option("visit")
    page.get_by_label("内容").fill("拜访了客户，介绍了新方案")
    page.get_by_label("下次跟进时间（可选）").fill(due.strftime("%Y-%m-%dT%H:%M:%S"))
    page.get_by_role("button", name="记录", exact=True).click()
    expect(page.get_by_text("拜访了客户，介绍了新方案")).to_be_visible(timeout=DEADLINE_MS)
    expect(badge).not_to_have_text(str(unread_before), timeout=60_000)
    checked(watched, "desktop-customer-zh")
    badge.click()
    expect(page.get_by_role("heading", name="收件箱")).to_be_visible()
    expect(page.get_by_text(name).first).to_be_visible(timeout=DEADLINE_MS)
    checked(watched, "desktop-inbox-zh")

    page.goto(detail)
    title = f"续约 {uuid.uuid4().hex[:6]}"
    page.get_by_label("标题").fill(title)
    page.get_by_role("button", name="新建商机").click()
    expect(page.get_by_role("heading", name=title)).to_be_visible(timeout=DEADLINE_MS)
    checked(watched, "desktop-deal-zh")
    page.get_by_role("link", name="销售漏斗", exact=True).click()
    card = page.locator("li.deal", has_text=title)
    expect(card).to_be_visible(timeout=DEADLINE_MS)
    card.get_by_label(f"移动 {title}").select_option("won")
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading", name="赢单：金额是多少？")).to_be_visible()
    dialog.get_by_label(re.compile("金额")).fill("8000")
    dialog.get_by_role("button", name="确认").click()
    won = page.locator('section.column[data-stage="won"]')
    expect(won.locator("li.deal", has_text=title)).to_be_visible(timeout=DEADLINE_MS)
    checked(watched, "desktop-pipeline-zh")


def test_the_admin_page_on_a_phone(stack, watched_phone):
    """The admin's screen at 390 pixels: its tables scroll inside their regions, the page
    never sideways."""
    page = watched_phone.page
    sign_in_as_admin(page, stack.base_url)
    page.wait_for_load_state("networkidle")
    expect(page.get_by_role("heading", name="Audit trail")).to_be_visible(timeout=DEADLINE_MS)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the admin page scrolls sideways: {width} px"
    checked(watched_phone, "phone-admin")


def test_every_console_string_has_its_chinese(stack, watched):
    watched.page.goto(f"{stack.base_url}/")
    missing = watched.page.evaluate("""async () => {
        const { strings } = await import("/console/i18n.js");
        const english = strings("en"), chinese = strings("zh-CN");
        return Object.keys(english).filter((key) => !chinese[key])
          .concat(Object.keys(chinese).filter((key) => !english[key]));
    }""")
    assert missing == []


def test_a_rep_drags_a_deal_across_the_board_to_won(stack, users, watched):
    sam = users["sam"]
    customer = sam.post("/customers", json={"name": f"Board {uuid.uuid4().hex[:8]}",
                                            "allow_duplicate": True}).json()
    title = f"Deal {uuid.uuid4().hex[:8]}"
    deal = sam.post("/deals", json={"customer_id": customer["id"], "title": title}).json()
    page = watched.page
    sign_in(page, stack.base_url)
    page.get_by_role("link", name="Pipeline", exact=True).click()
    card = page.locator("li.deal", has_text=title)
    expect(card).to_be_visible(timeout=DEADLINE_MS)
    checked(watched, "pipeline")

    second = page.locator("section.column").nth(1)  # the next stage: no question asked
    card.drag_to(second)
    expect(second.locator("li.deal", has_text=title)).to_be_visible(timeout=DEADLINE_MS)

    won = page.locator('section.column[data-stage="won"]')
    page.locator("li.deal", has_text=title).drag_to(won)
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()  # no amount yet: asked
    checked(watched, "pipeline-won-question")
    dialog.get_by_label(re.compile("Amount")).fill("5000")
    dialog.get_by_role("button", name="Confirm").click()
    expect(won.locator("li.deal", has_text=title)).to_be_visible(timeout=DEADLINE_MS)
    expect(won.locator(".totals")).to_contain_text("5,000")
    stored = sam.get(f"/deals/{deal['id']}").json()
    assert stored["status"] == "won" and float(stored["amount"]) == 5000

    # Lost, by keyboard and without dragging: the card's list, then the reason.
    page.locator("li.deal", has_text=title).get_by_label(f"Move {title}").select_option("lost")
    page.get_by_role("dialog").get_by_label("Reason").fill("Chose a competitor")
    page.get_by_role("button", name="Confirm").click()
    lost = page.locator('section.column[data-stage="lost"]')
    expect(lost.locator("li.deal", has_text=title)).to_be_visible(timeout=DEADLINE_MS)
    assert sam.get(f"/deals/{deal['id']}").json()["lost_reason"] == "Chose a competitor"


def test_a_rep_opens_a_deal_prices_it_quotes_it_and_makes_its_contract(stack, users, watched):
    """From the customer's page: a deal opened, a product added (its amount is the line's),
    a quote made from it, sent and accepted, and once won, the contract."""
    sku = f"SKU-{uuid.uuid4().hex[:6]}"
    product = users["maria"].post("/products", json={
        "sku": sku, "name": "Support plan", "list_price": "1200.00", "currency": "CNY"}).json()
    sam = users["sam"]
    customer = sam.post("/customers", json={"name": f"Deal page {uuid.uuid4().hex[:8]}",
                                            "allow_duplicate": True}).json()
    page = watched.page
    sign_in(page, stack.base_url)
    page.goto(f"{stack.base_url}/#/customers/{customer['id']}")
    title = f"Renewal {uuid.uuid4().hex[:6]}"
    page.get_by_label("Title").fill(title)
    page.get_by_role("button", name="Open a deal").click()
    expect(page.get_by_role("heading", name=title)).to_be_visible(timeout=DEADLINE_MS)
    checked(watched, "deal-new")

    page.get_by_label("Product", exact=True).select_option(product["id"])
    page.get_by_label("Quantity").fill("3")
    page.get_by_label("Discount (%)").fill("10")
    page.get_by_role("button", name="Add the product").click()
    lines = page.get_by_role("region", name="Products")
    expect(lines).to_contain_text("Support plan", timeout=DEADLINE_MS)
    expect(page.locator("dl.facts")).to_contain_text("3,240")  # 3 x 1,200 less 10 %

    page.get_by_label("Valid until").fill((dt.date.today() + dt.timedelta(days=30)).isoformat())
    page.get_by_role("button", name="Make a quote from the products").click()
    quotes = page.get_by_role("region", name="Quotes")
    expect(quotes).to_contain_text("draft", timeout=DEADLINE_MS)
    number = sam.get(f"/deals/{sam.get('/deals', params={'q': title}).json()['items'][0]['id']}"
                     "/quotes").json()["items"][0]["number"]
    page.get_by_role("button", name=f"Send {number}").click()
    page.get_by_role("button", name=f"Accept {number}").click()
    expect(quotes).to_contain_text("accepted", timeout=DEADLINE_MS)
    checked(watched, "deal-quoted")

    deal = sam.get("/deals", params={"q": title}).json()["items"][0]
    assert (deal["amount"], len(deal["lines"])) == ("3240.00", 1)
    sam.post(f"/deals/{deal['id']}/stage", json={"stage": "won"})
    page.reload()
    expect(page.get_by_text("The products of a won or lost deal are frozen.")).to_be_visible(
        timeout=DEADLINE_MS)
    page.get_by_label("Start").fill(dt.date.today().isoformat())
    page.get_by_label("End").fill((dt.date.today() + dt.timedelta(days=365)).isoformat())
    page.get_by_role("button", name="Make the contract").click()
    expect(page.locator("ul.cards", has_text="active")).to_contain_text("3,240",
                                                                        timeout=DEADLINE_MS)
    checked(watched, "deal-won-contract")
    (contract,) = sam.get("/contracts", params={"deal_id": deal["id"]}).json()["items"]
    assert contract["amount"] == "3240.00" and contract["status"] == "active"


def test_a_manager_reads_the_funnel_and_revenue_charts_and_exports_csv(stack, users, watched):
    sam = users["sam"]  # a deal won this month, so the revenue has a bar
    customer = sam.post("/customers", json={"name": f"Revenue {uuid.uuid4().hex[:8]}",
                                            "allow_duplicate": True}).json()
    sam.post("/deals", json={"customer_id": customer["id"], "title": "Won for the chart",
                             "amount": "1200", "stage": "won"}).raise_for_status()
    page = watched.page
    sign_in(page, stack.base_url, "maria")
    expect(page.get_by_text("Won this month")).to_be_visible(timeout=DEADLINE_MS)  # a tile
    expect(page.get_by_role("heading", name="Open deals by stage")).to_be_visible()
    checked(watched, "home-manager")
    page.get_by_role("link", name="Reports", exact=True).click()
    expect(page.get_by_role("heading", name="Funnel", exact=True)).to_be_visible(
        timeout=DEADLINE_MS)
    expect(page.locator("figure.chart svg rect").first).to_be_visible()
    checked(watched, "reports-funnel")

    page.get_by_role("link", name="Revenue", exact=True).click()
    page.get_by_label("Period").select_option("month")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("heading", name="Revenue", exact=True)).to_be_visible()
    # The read model follows the events: poll until the won deal is in.
    for _ in range(30):
        if page.locator("figure.chart svg rect").count():
            break
        page.get_by_role("button", name="Show").click()
        page.wait_for_timeout(1000)
    expect(page.locator("figure.chart svg rect").first).to_be_visible()
    checked(watched, "reports-revenue")

    with page.expect_download() as downloading:
        page.get_by_role("button", name="Export CSV").click()
    saved = downloading.value
    assert saved.suggested_filename.endswith(".csv")
    text = open(saved.path(), encoding="utf-8-sig").read()
    assert text.startswith("report,revenue") and "Won amount" in text
    # This month's row holds the deal won above (and any other test's of this month).
    (this_month,) = [line for line in text.splitlines()
                     if line.startswith(dt.date.today().strftime("%Y-%m,"))]
    assert float(this_month.split(",")[1]) >= 1200


def test_two_tabs_refreshing_at_once_keep_the_session(stack, watched):
    """Each tab refreshes in turn with the cookie the other left: no refresh token is spent
    twice (which would end the session as if it had been stolen)."""
    page = watched.page
    sign_in(page, stack.base_url)
    other = page.context.new_page()
    other.goto(f"{stack.base_url}/")
    expect(other.locator("header nav")).to_be_visible(timeout=DEADLINE_MS)
    start = "() => { window.__refreshed = import('/console/api.js').then(m => m.refresh()); }"
    for tab in (page, other):
        tab.evaluate(start)
    assert [tab.evaluate("() => window.__refreshed") for tab in (page, other)] == [True, True]
    page.reload()  # the session lives on: the reload signs in again from the cookie
    expect(page.locator("header nav")).to_be_visible(timeout=DEADLINE_MS)


def sign_in_as_admin(page, base_url: str) -> None:
    page.goto(f"{base_url}/")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Admin", exact=True).click()
    expect(page.get_by_role("heading", name="Administration")).to_be_visible(
        timeout=DEADLINE_MS)


def test_an_admin_creates_a_user_and_an_api_key_shown_once(stack, watched):
    page = watched.page
    sign_in_as_admin(page, stack.base_url)
    checked(watched, "admin")

    username = f"rep{uuid.uuid4().hex[:6]}"
    new_user = page.get_by_role("group", name="New user")
    new_user.get_by_label("Username").fill(username)
    new_user.get_by_label("Password").fill("short")
    new_user.get_by_role("button", name="Create").click()
    expect(new_user.locator(".field-error")).to_be_visible()  # beside the password
    new_user.get_by_label("Password").fill("a-long-enough-password")
    new_user.get_by_label("Role").select_option("sales")
    new_user.get_by_role("button", name="Create").click()
    expect(page.get_by_role("button", name=f"Deactivate {username}")).to_be_visible(
        timeout=DEADLINE_MS)
    signed_in = requests.post(f"{stack.base_url}/api/v1/auth/login", json={
        "username": username, "password": "a-long-enough-password"}, timeout=30)
    assert signed_in.status_code == 200
    # Promoted and moved to a team from the list.
    page.get_by_role("button", name=f"Edit role and team of {username}").click()
    change = page.get_by_role("form", name=f"Edit role and team of {username}")
    change.get_by_label("Role").select_option("manager")
    change.get_by_label("Team").select_option(label="East")
    change.get_by_role("button", name="Save").click()
    expect(change).to_have_count(0, timeout=DEADLINE_MS)
    admin = stack.login("admin")
    (stored,) = admin.get("/users", params={"q": username}).json()["items"]
    assert stored["role"] == "manager" and stored["team_id"]

    new_key = page.get_by_role("group", name="New API key")
    new_key.get_by_label("Name").fill("ERP sync")
    new_key.get_by_label("customers:read").check()
    new_key.get_by_role("button", name="Create").click()
    secret = page.locator("code.secret")
    expect(secret).to_be_visible(timeout=DEADLINE_MS)
    key = secret.inner_text()
    checked(watched, "admin-key-shown")
    answer = requests.get(f"{stack.base_url}/api/v1/customers", headers={"X-API-Key": key},
                          timeout=30)
    assert answer.status_code == 200
    page.get_by_role("button", name="I have saved it").click()
    expect(secret).to_have_count(0)
    page.reload()
    expect(page.get_by_text("ERP sync")).to_be_visible(timeout=DEADLINE_MS)
    assert key not in page.content()  # never shown again


def test_a_rep_merges_a_look_alike_into_a_customer_and_reads_its_history(stack, users,
                                                                            watched):
    """Two records of one company: the second's contact moves to the first, the second goes to
    the trash, and the first's field history says so."""
    sam = users["sam"]
    word = uuid.uuid4().hex[:8]
    kept = sam.post("/customers", json={"name": f"Acme {word}", "allow_duplicate": True}).json()
    other = sam.post("/customers", json={"name": f"ACME {word} Co., Ltd.",
                                         "allow_duplicate": True}).json()
    sam.post(f"/customers/{other['id']}/contacts", json={"name": "Wang Fang",
                                                         "phone": "+86 139 0000 1111"})
    sam.patch(f"/customers/{kept['id']}", json={"industry": "Retail", "version": 1})
    page = watched.page
    sign_in(page, stack.base_url)
    page.goto(f"{stack.base_url}/#/customers/{kept['id']}")
    page.get_by_role("button", name="Look for duplicates of this customer").click()
    page.get_by_role("button", name=f"Merge ACME {word} Co., Ltd. into this customer").click()
    checked(watched, "customer-merge-confirm")
    page.get_by_role("button", name=re.compile("^Yes: merge")).click()
    expect(page.get_by_text("Wang Fang")).to_be_visible(timeout=DEADLINE_MS)
    assert sam.get(f"/customers/{other['id']}").status_code == 404  # in the trash
    assert [c["name"] for c in sam.get(f"/customers/{kept['id']}/contacts").json()["items"]] == [
        "Wang Fang"]

    page.get_by_text("Field history").click()
    history = page.locator("details.history")
    expect(history).to_contain_text("merged", timeout=DEADLINE_MS)
    expect(history).to_contain_text("industry")
    checked(watched, "customer-history")


def test_an_admin_sets_up_teams_stages_lead_rules_and_webhooks_and_reads_the_audit_trail(
        stack, watched):
    admin = stack.login("admin")
    stages = admin.get("/pipeline/stages").json()["stages"]
    west = next(team for team in admin.get("/teams").json()["items"] if team["name"] == "West")
    rule_of_west = lambda: next((rule for rule in admin.get("/assignment-rules").json()["items"]
                                 if rule["team_id"] == west["id"]), None)
    west_rule = rule_of_west() or {"strategy": "round_robin", "region_map": {}}
    page = watched.page
    sign_in_as_admin(page, stack.base_url)
    try:
        team = f"North {uuid.uuid4().hex[:6]}"
        page.get_by_label("Team name").fill(team)
        page.get_by_label("Manager", exact=True).select_option(label="Maria Manager")
        page.get_by_role("button", name="Create the team").click()
        teams = page.get_by_role("region", name="Teams")
        expect(teams.get_by_role("strong").filter(has_text=team)).to_be_visible(
            timeout=DEADLINE_MS)
        # the other sections see the new team at once: a lead rule, a user's team
        expect(page.get_by_role("group", name=team)).to_be_visible(timeout=DEADLINE_MS)
        expect(page.locator("#team_id option", has_text=team)).to_have_count(1)

        page.get_by_label("Key", exact=True).fill("legal_review")
        page.locator("#stage-name").fill("Legal review")
        page.get_by_label("Win probability (%)", exact=True).fill("85")
        page.get_by_role("button", name="Add the stage").click()
        page.get_by_role("button", name="Save the stages").click()
        expect(page.get_by_text("Stages saved.")).to_be_visible(timeout=DEADLINE_MS)
        saved = admin.get("/pipeline/stages").json()["stages"]
        assert [stage["key"] for stage in saved][-3:] == ["legal_review", "won", "lost"]

        hooks = page.get_by_role("group", name="New webhook")
        hooks.get_by_label("URL").fill("http://127.0.0.1:9/hook")
        hooks.get_by_label("reminder.failed").check()
        hooks.get_by_role("button", name="Create").click()
        expect(page.locator("#webhook-url-error")).to_contain_text("loopback",
                                                                   timeout=DEADLINE_MS)
        checked(watched, "admin-webhook-refused")
        # A public address, paused at once: nothing is ever sent to it.
        hooks.get_by_label("URL").fill("https://1.1.1.1/crm-hook")
        hooks.get_by_role("button", name="Create").click()
        expect(page.locator("code.secret")).to_be_visible(timeout=DEADLINE_MS)
        page.get_by_role("button", name="Pause https://1.1.1.1/crm-hook").click()
        expect(page.get_by_role("button", name="Resume https://1.1.1.1/crm-hook")).to_be_visible(
            timeout=DEADLINE_MS)
        page.get_by_text("Delivery log").click()
        expect(page.get_by_text("Nothing delivered yet.")).to_be_visible(timeout=DEADLINE_MS)

        rules = page.get_by_role("group", name="West", exact=True)
        rules.get_by_label("New leads go to").select_option("region")
        rules.get_by_role("button", name="Add a region").click()
        rules.get_by_label("Region").fill("Chengdu")
        rules.get_by_label("Member").select_option(label="Sara Sales")
        rules.get_by_role("button", name="Save the rule of West").click()
        expect(rules.get_by_text("Rule saved.")).to_be_visible(timeout=DEADLINE_MS)
        saved_rule = rule_of_west()
        assert saved_rule["strategy"] == "region" and list(saved_rule["region_map"]) == ["Chengdu"]

        trail = page.get_by_role("region", name="Audit trail")
        page.get_by_label("Actions").select_option("team.")
        expect(trail).to_contain_text("team.created", timeout=DEADLINE_MS)
        checked(watched, "admin-setup")
    finally:
        admin.put("/pipeline/stages", json={"stages": stages})
        admin.put(f"/assignment-rules/{west['id']}", json={
            "strategy": west_rule["strategy"], "region_map": west_rule["region_map"]})
        for hook in admin.get("/webhooks").json()["items"]:
            admin.delete(f"/webhooks/{hook['id']}")


def test_a_manager_captures_a_lead_gives_it_to_a_rep_and_converts_it(stack, users, watched):
    page = watched.page
    sign_in(page, stack.base_url, "maria")
    page.get_by_role("link", name="Leads", exact=True).click()
    page.get_by_role("link", name="New lead").click()
    company = f"Lead Co {uuid.uuid4().hex[:8]}"
    page.get_by_label("Name").fill("Li Lei")
    page.get_by_label("Company").fill(company)
    page.get_by_label("Phone").fill("+86 138 0000 0000")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("heading", name="Li Lei")).to_be_visible(timeout=DEADLINE_MS)
    checked(watched, "lead-detail")

    page.get_by_label("Owner").select_option(label="Sam Sales")
    page.get_by_role("button", name="Assign").click()
    lead_id = page.url.rsplit("/", 1)[1]
    sam = users["sam"]
    deadline = dt.datetime.now() + dt.timedelta(seconds=30)
    while sam.get(f"/leads/{lead_id}").json().get("owner_id") != sam.me["id"]:
        assert dt.datetime.now() < deadline, "the lead was not given to sam"
        page.wait_for_timeout(200)

    page.get_by_label("Deal amount (optional)").fill("8800")
    page.get_by_role("button", name="Convert to a customer").click()
    expect(page.get_by_role("heading", name=company)).to_be_visible(timeout=DEADLINE_MS)
    checked(watched, "lead-converted-customer")
    assert sam.get(f"/leads/{lead_id}").json()["status"] == "converted"

    page.get_by_role("link", name="Leads", exact=True).click()  # and out, as CSV
    with page.expect_download() as downloading:
        page.get_by_role("button", name="Export CSV").click()
    exported = open(downloading.value.path(), encoding="utf-8-sig").read()
    assert company in exported


def test_an_edit_over_a_newer_version_is_explained_and_a_customer_goes_to_trash_and_back(
        stack, users, watched):
    sam = users["sam"]
    customer = sam.post("/customers", json={"name": f"Edit {uuid.uuid4().hex[:8]}",
                                            "allow_duplicate": True, "city": "Ningbo"}).json()
    page = watched.page
    sign_in(page, stack.base_url)
    page.goto(f"{stack.base_url}/#/customers/{customer['id']}/edit")
    expect(page.get_by_label("City")).to_have_value("Ningbo", timeout=DEADLINE_MS)
    # Someone else changes it meanwhile.
    sam.patch(f"/customers/{customer['id']}", json={"industry": "Textiles",
                                                    "version": customer["version"]})
    page.get_by_label("City").fill("Hangzhou")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Reload to see their change")).to_be_visible(timeout=DEADLINE_MS)
    checked(watched, "customer-edit-conflict")
    page.get_by_role("button", name="Reload").click()
    expect(page.get_by_label("Industry")).to_have_value("Textiles", timeout=DEADLINE_MS)
    page.get_by_label("City").fill("Hangzhou")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name=customer["name"], exact=True)).to_be_visible(
        timeout=DEADLINE_MS)
    stored = sam.get(f"/customers/{customer['id']}").json()
    assert (stored["city"], stored["industry"]) == ("Hangzhou", "Textiles")

    page.get_by_role("button", name="Move to trash").click()
    expect(page.get_by_role("heading", name="Trash")).to_be_visible(timeout=DEADLINE_MS)
    checked(watched, "customer-trash")
    page.get_by_role("button", name=f"Restore {customer['name']}").click()
    expect(page.get_by_role("heading", name=customer["name"])).to_be_visible(
        timeout=DEADLINE_MS)
    assert sam.get(f"/customers/{customer['id']}").json()["deleted_at"] is None


def choose_import_file(page, base_url: str, name: str, rows: str) -> None:
    """Sam on the import screen with a CSV file of ``rows`` chosen."""
    sign_in(page, base_url)
    page.get_by_role("link", name="Import", exact=True).click()
    page.get_by_label("File (CSV or XLSX)").set_input_files(files=[{
        "name": name, "mimeType": "text/csv", "buffer": rows.encode()}])


def test_a_rep_imports_customers_after_a_dry_run_and_downloads_the_failed_rows(
        stack, users, watched):
    tag = uuid.uuid4().hex[:8]
    rows = f"name,city,tier\nImported A {tag},杭州,A\nImported B {tag},Ningbo,B\nBad {tag},X,Z\n"
    page = watched.page
    choose_import_file(page, stack.base_url, "customers.csv", rows)
    page.get_by_label("All or nothing").uncheck()
    page.get_by_role("button", name="Check (dry run)").click()
    expect(page.get_by_role("heading", name="Dry run: done")).to_be_visible(
        timeout=DEADLINE_MS)
    expect(page.get_by_role("cell", name="Z")).to_be_visible()  # the bad row's value
    checked(watched, "import-dry-run")
    sam = users["sam"]
    assert sam.get("/customers", params={"q": tag}).json()["total"] == 0  # nothing stored

    page.get_by_role("button", name="Import for real").click()
    expect(page.get_by_role("heading", name="Import: done")).to_be_visible(timeout=DEADLINE_MS)
    assert sam.get("/customers", params={"q": tag}).json()["total"] == 2
    with page.expect_download() as downloading:
        page.get_by_role("button", name="Download the failed rows (CSV)").click()
    failed = open(downloading.value.path(), encoding="utf-8-sig").read()
    assert f"Bad {tag}" in failed and "error" in failed.splitlines()[0]

    page.get_by_role("link", name="Customers", exact=True).click()
    page.get_by_label("Search customers").fill(f"Imported A {tag}")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("link", name=f"Imported A {tag}")).to_be_visible(
        timeout=DEADLINE_MS)
    with page.expect_download() as downloading:
        page.get_by_role("button", name="Export CSV").click()
    exported = open(downloading.value.path(), encoding="utf-8-sig").read()
    assert f"Imported A {tag}" in exported and "杭州" in exported


def test_a_file_with_other_column_names_is_mapped_and_imported(stack, users, watched):
    """No column the CRM knows as the name: the file is refused whole, its columns are offered
    for mapping, and with them mapped (one left out) it imports."""
    tag = uuid.uuid4().hex[:8]
    rows = f"Company,Town,Remark\nMapped {tag},Suzhou,hello\n"
    page = watched.page
    choose_import_file(page, stack.base_url, "from-another-crm.csv", rows)
    page.get_by_role("button", name="Check (dry run)").click()
    mapping = page.get_by_role("group", name="Columns to map")
    expect(mapping).to_be_visible(timeout=DEADLINE_MS)
    mapping.get_by_label("Company").select_option("name")
    mapping.get_by_label("Town").select_option("city")
    mapping.get_by_label("Remark").select_option("")
    page.get_by_role("button", name="Check (dry run)").click()
    expect(page.get_by_role("heading", name="Dry run: done")).to_be_visible(
        timeout=DEADLINE_MS)
    checked(watched, "import-mapped")
    page.get_by_role("button", name="Import for real").click()
    expect(page.get_by_role("heading", name="Import: done")).to_be_visible(timeout=DEADLINE_MS)
    (stored,) = users["sam"].get("/customers", params={"q": f"Mapped {tag}"}).json()["items"]
    assert (stored["name"], stored["city"], stored["notes"]) == (f"Mapped {tag}", "Suzhou", None)


def test_the_customer_list_filters_and_orders_and_keeps_them_in_the_address(stack, users,
                                                                              watched):
    sam = users["sam"]
    word = uuid.uuid4().hex[:8]
    for name, tier in (("Zeta", "A"), ("Alpha", "A"), ("Mid", "C")):
        sam.post("/customers", json={"name": f"{name} {word}", "tier": tier,
                                     "allow_duplicate": True}).raise_for_status()
    page = watched.page
    sign_in(page, stack.base_url)
    page.goto(f"{stack.base_url}/#/customers?q={word}")
    expect(page.get_by_text("3 customers")).to_be_visible(timeout=DEADLINE_MS)
    page.get_by_label("Tier").select_option("A")
    expect(page.get_by_text("2 customers")).to_be_visible(timeout=DEADLINE_MS)
    page.get_by_label("Order").select_option("name")
    names = page.locator("tbody tr td:first-child a")
    expect(names).to_have_text([f"Alpha {word}", f"Zeta {word}"], timeout=DEADLINE_MS)
    assert all(part in page.url for part in (f"q={word}", "tier=A", "sort=name"))
    checked(watched, "customers-filtered")
    page.reload()  # the address keeps them
    expect(names).to_have_text([f"Alpha {word}", f"Zeta {word}"], timeout=DEADLINE_MS)
    expect(page.get_by_label("Tier")).to_have_value("A")
