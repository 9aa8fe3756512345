"""The API's resources, one flask-smorest blueprint each (registered in ``gateway.app``).

Importing this package makes every flask-smorest blueprint parse its arguments with the
gateway's parser before any blueprint module decorates a view: webargs would otherwise
answer invalid input with 422 and its own error shape, and document 422 in OpenAPI.
"""
from flask_smorest import Blueprint

from gateway.errors import ArgumentParser

Blueprint.ARGUMENTS_PARSER = ArgumentParser()
