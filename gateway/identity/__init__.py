"""Identity: the users, teams and API keys the gateway owns, shaped like a service.

``schemas`` is its contract (the routes' payloads and answers, and the ``user.*`` and
``team.*`` events); ``users``, ``teams`` and ``api_keys`` are its use cases, plain functions
``fn(uow, ...)`` over ``common.uow.UnitOfWork`` that check who may act, validate, change the
identity database, record their events and commit, as a service's do. The gateway runs them
in-process for its routes (``gateway.forwarding.identity``) and its commands run them too
(``gateway.seed``, ``gateway.identity.announce``); nothing here knows about HTTP.
"""
