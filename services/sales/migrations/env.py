from common.migrations import run_env
from services.sales.models import Base

run_env(Base.metadata)
