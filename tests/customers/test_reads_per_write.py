"""What a write reads of its customer: the tags only when the write shows or changes them (a
customer read, updated, trashed), in the same query; never for a contact or an activity."""
import pytest
import sqlalchemy as sa

from services.customers import operations
from tests.customers.conftest import SAM


@pytest.fixture
def statements(run):
    seen = []

    def note(conn, cursor, statement, *args):
        seen.append(statement)

    engine = run.factory.kw["bind"]
    sa.event.listen(engine, "before_cursor_execute", note)
    yield seen
    sa.event.remove(engine, "before_cursor_execute", note)


def tag_reads(seen: list[str]) -> int:
    return sum("FROM customer_tags" in statement or "JOIN customer_tags" in statement
               for statement in seen)


def test_an_activity_or_a_contact_written_reads_no_tags(run, statements):
    customer = run(SAM, operations.create_customer, {"name": "Acme", "tags": ["vip", "east"]})
    statements.clear()
    run(SAM, operations.log_activity, customer["id"], {
        "type": "call", "content": "Called", "next_follow_up_at": "2099-01-01T09:00:00+00:00"})
    run(SAM, operations.create_contact, customer["id"], {"name": "Li Lei"})
    assert tag_reads(statements) == 0


def test_a_customer_shown_or_changed_reads_its_tags_in_its_own_query(run, statements):
    customer = run(SAM, operations.create_customer, {"name": "Acme", "tags": ["vip", "east"]})
    for use_case, args in [
        (operations.get_customer, ()),
        (operations.update_customer, ({"version": 1, "tier": "A"},)),
        (operations.delete_customer, ()),
        (operations.restore_customer, ()),
    ]:
        statements.clear()
        answer = run(SAM, use_case, customer["id"], *args)
        assert answer["tags"] == ["east", "vip"]
        customer_reads = [statement for statement in statements
                          if "FROM customers" in statement and "customer_tags" in statement]
        assert len(customer_reads) == 1 and tag_reads(statements) == 1, use_case.__name__
