"""The record tier uses the API tier's logged-in clients as well as the engine."""
from tests.api.conftest import app, http, login  # noqa: F401
