"""Authentication of the gateway: passwords, tokens, rate limits, and the view guard.

Blueprints use exactly two names from here::

    from gateway.auth import login_required, current_actor
"""
from gateway.auth.access import current_actor, login_required

__all__ = ["current_actor", "login_required"]
