"""SKUs unique whatever their case

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("uq_products_sku_lower", "products", [sa.text("lower(sku)")], unique=True)


def downgrade() -> None:
    op.drop_index("uq_products_sku_lower", table_name="products")
