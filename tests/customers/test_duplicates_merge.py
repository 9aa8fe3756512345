"""Duplicate detection and merge, driven without a broker (SQLite in memory): the name and
phone keys, the finder's visibility, the create check, and what a merge moves, fills,
records and announces."""
import pytest

from common.errors import Conflict, Duplicate, NotFound, ValidationError
from common.normalize import phone
from services.customers import duplicates, merging
from services.customers import operations as op
from services.customers.duplicates import find_duplicates, name_key
from tests.customers.conftest import ALEX, MARIA, SAM, SARA, outbox_types


@pytest.mark.parametrize("variant", [
    "Acme", "ACME", "acme", "Ａｃｍｅ", " A c m e ", "Acme Co., Ltd.", "Acme Co. Ltd", "Acme Inc.",
    "Acme, LLC", "Acme Corp.", "acme 有限公司", "Acme（有限公司）", "Acme Group", "A.C.M.E.",
])
def test_name_key_ignores_case_width_spaces_punctuation_and_legal_forms(variant):
    assert name_key(variant) == "acme"


@pytest.mark.parametrize("first, second", [
    ("杭州西湖科技有限公司", "杭州西湖科技"),
    ("杭州西湖科技有限责任公司", "杭州 西湖 科技 公司"),
    ("杭州西湖科技股份有限公司", "杭州西湖科技集团"),
    ("杭州西湖科技集团有限公司", "杭州西湖科技"),
    ("腾讯科技（深圳）有限公司", "腾讯科技(深圳)"),
])
def test_chinese_company_names_compare_without_their_legal_form(first, second):
    assert name_key(first) == name_key(second)


@pytest.mark.parametrize("first, second", [
    ("Costco", "Cost Co., Ltd."),   # a suffix is a whole word, never part of one
    ("Acme", "Acme West"),
    ("杭州西湖科技", "杭州西湖"),
])
def test_different_names_stay_different(first, second):
    assert name_key(first) != name_key(second)


def test_a_name_of_only_a_legal_form_or_punctuation():
    assert name_key("有限公司") == "有限公司" and name_key("Co., Ltd.") == "coltd"
    assert name_key("!!!") == "" and name_key("") == ""


@pytest.mark.parametrize("written", [
    "+86 138 0000 1111", "0086 138-0000-1111", "13800001111", "138 0000 1111", "+86-13800001111",
])
def test_a_phone_is_its_digits_with_the_country_code_optional(written):
    assert phone(written) == "13800001111"


def test_phone_keys_of_landlines_and_other_countries():
    assert phone("+86 10 1234 5678") == phone("010-1234-5678") == "1012345678"
    assert phone("+1 (415) 555-0100") == phone("415.555.0100") == "4155550100"
    assert phone("+852 2345 6789") == "23456789"  # a three-digit country code
    assert phone("+44 20 7946 0000") == phone("020 7946 0000")
    assert phone("--") is None and phone(None) is None


def customer_with_contact(run, actor, name, **contact):
    customer = run(actor, op.create_customer, {"name": name, "allow_duplicate": True})
    if contact:
        run(actor, op.create_contact, customer["id"], {"name": "Someone", **contact})
    return customer


def found(run, actor, **criteria):
    with run.factory() as session:
        return [(match["customer"]["id"], match["matched"])
                for match in find_duplicates(session, actor, **criteria)]


def test_the_finder_matches_by_name_email_and_phone_among_what_the_caller_sees(run):
    acme = customer_with_contact(run, SAM, "Acme Co., Ltd.", email="Li@Acme.cn",
                                 phone="+86 138 0000 1111")
    globex = customer_with_contact(run, SAM, "Globex", phone="021-5555-0100")
    saras = customer_with_contact(run, SARA, "ACME 有限公司", email="li@acme.cn")

    assert found(run, SAM, name="ａｃｍｅ") == [(acme["id"], ["name"])]
    assert found(run, SAM, emails=[" LI@acme.CN "]) == [(acme["id"], ["email"])]
    assert found(run, SAM, phones=["13800001111"]) == [(acme["id"], ["phone"])]
    assert found(run, SAM, name="Acme", emails=["li@acme.cn"], phones=["+86 21 5555 0100"]) == [
        (acme["id"], ["name", "email"]), (globex["id"], ["phone"])]
    assert found(run, SARA, name="Acme") == [(saras["id"], ["name"])]
    assert found(run, ALEX, name="acme") == [(acme["id"], ["name"]), (saras["id"], ["name"])]
    assert found(run, ALEX, name="acme", exclude_id=acme["id"]) == [(saras["id"], ["name"])]
    assert found(run, SAM) == [] and found(run, SAM, name="!!!") == []


def test_trashed_customers_and_removed_contacts_are_no_duplicates(run):
    gone = customer_with_contact(run, SAM, "Initech", email="bill@initech.com")
    kept = customer_with_contact(run, SAM, "Kept")
    contact = run(SAM, op.create_contact, kept["id"], {"name": "Bill", "phone": "555 0100"})
    run(SAM, op.delete_customer, gone["id"])
    run(SAM, op.delete_contact, contact["id"])
    assert found(run, SAM, name="Initech", emails=["bill@initech.com"], phones=["5550100"]) == []


def test_creating_a_duplicate_is_refused_unless_allowed(run):
    first = run(SAM, op.create_customer, {"name": "Umbrella Corp."})
    with pytest.raises(Duplicate) as refused:
        run(SAM, op.create_customer, {"name": "UMBRELLA"})
    assert [(m["customer"]["id"], m["matched"]) for m in refused.value.matches] == [
        (first["id"], ["name"])]
    assert outbox_types(run.factory) == ["customer.created"]
    run(SARA, op.create_customer, {"name": "Umbrella"})  # Sara sees no Umbrella of hers
    again = run(SAM, op.create_customer, {"name": "UMBRELLA", "allow_duplicate": True})
    assert again["name"] == "UMBRELLA" and "allow_duplicate" not in again


def test_the_duplicates_query_needs_one_of_its_fields(run):
    with pytest.raises(ValidationError) as error:
        run(SAM, duplicates.list_duplicates, {})
    assert set(error.value.details) == {"name", "email", "phone"}
    with pytest.raises(ValidationError) as error:
        run(SAM, duplicates.list_duplicates, {"phone": "call me"})
    assert set(error.value.details) == {"phone"}


def test_many_queries_are_answered_each_as_one_would_be(run):
    acme = run(SAM, op.create_customer, {"name": "Acme Co., Ltd."})
    run(SARA, op.create_customer, {"name": "Beta"})  # West: not sam's to see
    queries = [{"name": "ACME 有限公司"}, {"name": "Beta"}, {"name": "acme", "phone": "021"}]
    answers = run(SAM, duplicates.list_duplicates_many, queries)
    assert answers == [run(SAM, duplicates.list_duplicates, query) for query in queries]
    assert [[m["customer"]["id"] for m in answer["items"]] for answer in answers] == [
        [acme["id"]], [], [acme["id"]]]
    with pytest.raises(ValidationError):
        run(SAM, duplicates.list_duplicates_many, [{"name": "x"}] * (duplicates.MAX_QUERIES + 1))


def merge_fixture(run):
    kept = run(SAM, op.create_customer, {"name": "Hooli", "city": "Hangzhou", "tags": ["a"],
                                         "custom_fields": {"erp": "H-1"}})
    merged = run(SAM, op.create_customer, {
        "name": "Hooli Ltd", "allow_duplicate": True, "city": "Ningbo", "industry": "Software",
        "tier": "A", "tags": ["b"], "custom_fields": {"erp": "H-2", "size": 10}})
    kept_primary = run(SAM, op.create_contact, kept["id"], {"name": "Kim", "is_primary": True})
    moved_primary = run(SAM, op.create_contact, merged["id"], {"name": "Mo", "is_primary": True})
    other = run(SAM, op.create_contact, merged["id"], {"name": "Ola", "phone": "+86 139 1"})
    activity = run(SAM, op.log_activity, merged["id"], {"type": "call", "content": "hi"})
    return kept, merged, kept_primary, moved_primary, other, activity


def test_a_merge_moves_fills_records_trashes_and_announces(run):
    kept, merged, kept_primary, moved_primary, other, activity = merge_fixture(run)
    before = len(outbox_types(run.factory))

    result = run(SAM, merging.merge_customers, kept["id"],
                 {"from_id": merged["id"], "version": kept["version"]})

    assert result["version"] == kept["version"] + 1
    assert (result["city"], result["industry"], result["tier"]) == ("Hangzhou", "Software", "A")
    assert result["tags"] == ["a", "b"] and result["custom_fields"] == {"erp": "H-1", "size": 10}
    contacts = run(SAM, op.list_contacts, kept["id"], {})["items"]
    assert [(c["id"], c["is_primary"]) for c in contacts] == [
        (kept_primary["id"], True), (moved_primary["id"], False), (other["id"], False)]
    assert [a["id"] for a in run(SAM, op.list_activities, kept["id"], {})["items"]] == [
        activity["id"]]
    with pytest.raises(NotFound):
        run(SAM, op.get_customer, merged["id"])
    assert outbox_types(run.factory)[before:] == [
        "contact.updated", "contact.updated", "activity.updated", "customer.updated",
        "customer.deleted", "customer.merged"]

    kept_history = run(SAM, op.customer_history, kept["id"], {"per_page": 200})["items"]
    merge_row = next(h for h in kept_history if h["action"] == "merged")
    assert merge_row["new_value"]["from_id"] == merged["id"]
    assert merge_row["new_value"]["contacts"] == [moved_primary["id"], other["id"]]
    assert {h["field"] for h in kept_history if h["action"] == "updated"} >= {
        "industry", "tier", "tags", "custom_fields"}
    # The merge records "merged" then "deleted" (the trashing, a version later) on the merged
    # customer; the clock orders the history, and between two rows of one transaction a
    # virtual machine's clock may step back, so their order is read from their versions.
    merged_history = run(SAM, op.customer_history, merged["id"], {"per_page": 200})["items"]
    last_two = {h["action"]: h for h in merged_history[:2]}
    assert last_two["deleted"]["entity_version"] == last_two["merged"]["entity_version"] + 1
    assert last_two["merged"]["new_value"]["into_id"] == kept["id"]


def test_a_merged_customer_restores_alone(run):
    kept, merged, *_ = merge_fixture(run)
    run(SAM, merging.merge_customers, kept["id"], {"from_id": merged["id"], "version": 1})
    restored = run(SAM, op.restore_customer, merged["id"])
    assert restored["name"] == "Hooli Ltd" and restored["city"] == "Ningbo"
    assert run(SAM, op.list_contacts, merged["id"], {})["total"] == 0
    assert run(SAM, op.list_contacts, kept["id"], {})["total"] == 3
    assert run(SAM, op.list_activities, kept["id"], {})["total"] == 1


def test_a_kept_customer_without_a_primary_contact_takes_the_merged_one(run):
    kept = run(SAM, op.create_customer, {"name": "Vandelay"})
    merged = run(SAM, op.create_customer, {"name": "Vandelay Industries"})
    primary = run(SAM, op.create_contact, merged["id"], {"name": "Art", "is_primary": True})
    run(SAM, merging.merge_customers, kept["id"], {"from_id": merged["id"], "version": 1})
    assert run(SAM, op.get_contact, primary["id"])["is_primary"] is True


def test_merge_refusals(run):
    kept, merged, *_ = merge_fixture(run)
    saras = run(SARA, op.create_customer, {"name": "Sara's"})
    with pytest.raises(NotFound):
        run(SAM, merging.merge_customers, kept["id"], {"from_id": saras["id"], "version": 1})
    with pytest.raises(NotFound):
        run(SARA, merging.merge_customers, saras["id"], {"from_id": merged["id"], "version": 1})
    with pytest.raises(Conflict):
        run(SAM, merging.merge_customers, kept["id"], {"from_id": merged["id"], "version": 9})
    with pytest.raises(ValidationError) as itself:
        run(SAM, merging.merge_customers, kept["id"], {"from_id": kept["id"], "version": 1})
    assert set(itself.value.details) == {"from_id"}
    with pytest.raises(ValidationError) as missing:
        run(SAM, merging.merge_customers, kept["id"], {"version": 1})
    assert set(missing.value.details) == {"from_id"}
    assert run(MARIA, merging.merge_customers, kept["id"],
               {"from_id": merged["id"], "version": 1})["id"] == kept["id"]
    with pytest.raises(NotFound):  # merged away: in the trash now
        run(SAM, merging.merge_customers, kept["id"], {"from_id": merged["id"], "version": 2})
