"""How a refusal becomes the console's answer: `{"error": sentence}` with its status, never a
trace. Registered on the app by `install_handlers`; the console JS shows the sentence.

Handlers are app-wide in FastAPI, so the ones for general exceptions (ValueError, a request
FastAPI could not validate) answer this way only under the console API's prefix and leave every
other route's answer as it was.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response

from catalog.handoffs import HandoffError
from web.console.deps import API_PREFIX, ConsoleError
from web.rasa_client import RasaUnavailable

RASA_DOWN = "The assistant (Rasa) is not answering; please try again shortly."


def error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def in_console(request: Request) -> bool:
    return request.url.path.startswith(API_PREFIX + "/")


async def console_error(request: Request, problem: Exception) -> Response:
    assert isinstance(problem, ConsoleError)
    return error(problem.status, problem.message, problem.headers)


async def handoff_error(request: Request, problem: Exception) -> Response:
    """An action that does not fit the handoff's state (409), checked before ValueError."""
    assert isinstance(problem, HandoffError)
    return error(problem.status, str(problem))


async def rasa_unavailable(request: Request, problem: Exception) -> Response:
    return error(503, RASA_DOWN)


async def value_error(request: Request, problem: Exception) -> Response:
    """The console's domain modules (notes, corrections, analytics' date range) refuse with a
    ValueError whose text is for the agent; elsewhere a ValueError stays a server error."""
    if not in_console(request):
        raise problem
    return error(400, str(problem))


async def invalid_request(request: Request, problem: Exception) -> Response:
    """A path or query FastAPI could not validate: under the console, its shape; else FastAPI's."""
    assert isinstance(problem, RequestValidationError)
    if not in_console(request):
        return await request_validation_exception_handler(request, problem)
    errors = problem.errors()
    if not errors:
        return error(400, "The console could not read that request.")
    loc = ".".join(str(part) for part in errors[0].get("loc", ()))
    return error(400, f"The request's {loc or 'input'} is not right: {errors[0].get('msg', '')}.")


def install_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ConsoleError, console_error)
    app.add_exception_handler(HandoffError, handoff_error)
    app.add_exception_handler(RasaUnavailable, rasa_unavailable)
    app.add_exception_handler(ValueError, value_error)
    app.add_exception_handler(RequestValidationError, invalid_request)
