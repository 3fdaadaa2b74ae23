"""Add the demo lab to a running Home Assistant, as a person would in the wizard.

`scripts/demo` (through `python -m tests.simulators.demo --setup URL`) and the
browser tests use this to reach a Home Assistant whose first page shows the lab:

- onboarding over Home Assistant's own REST endpoints (the owner account the
  frontend would create), or a login when it is already done;
- every server added through WakeHub's config flow over the REST flow API, the
  same steps the wizard's dialog posts: the form values, confirming the
  certificate or host key shown, opening the OVHcloud validation link, choosing
  every resource discovered;
- the host links (machine -> Proxmox node, VM -> Docker engine) set through the
  entries' options flows.

Answers are given per *field*, not per step, so renaming a step does not break
it: a form is filled with the values of the fields it asks for, a form without
fields (a confirmation) is submitted as it is, and a `resources` field gets every
option offered.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
import json
import time
from typing import Any

import aiohttp

DOMAIN = "wakehub"
DEMO_USERNAME = "demo"
DEMO_PASSWORD = "wakehub-demo"
DEMO_NAME = "Demo"

type Json = dict[str, Any]
#: Called before a step is submitted (e.g. to open a link it shows).
type StepHook = Callable[[Json], Awaitable[None]]


class SetupError(Exception):
    """Home Assistant answered something the setup cannot go on from."""


@dataclass
class HomeAssistantApi:
    """Home Assistant's REST API, with the token of the demo's owner."""

    url: str
    session: aiohttp.ClientSession
    token: str | None = None

    @property
    def client_id(self) -> str:
        return self.url.rstrip("/") + "/"

    async def wait_until_up(self, timeout: float = 600.0) -> None:
        """Until the HTTP server answers (the first start installs the frontend)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                async with self.session.get(f"{self.url}/api/onboarding") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            if time.monotonic() > deadline:
                raise SetupError(f"Home Assistant did not answer on {self.url}")
            await asyncio.sleep(1)

    async def onboarded(self) -> bool:
        async with self.session.get(f"{self.url}/api/onboarding") as resp:
            steps = await resp.json()
        return all(step["done"] for step in steps)

    async def onboard(self, username: str, password: str, name: str) -> None:
        """Create the owner account, then finish the onboarding's other steps."""
        body = {
            "client_id": self.client_id,
            "name": name,
            "username": username,
            "password": password,
            "language": "en",
        }
        async with self.session.post(
            f"{self.url}/api/onboarding/users", json=body
        ) as resp:
            if resp.status != 200:
                raise SetupError(f"onboarding refused: {resp.status}")
            code = (await resp.json())["auth_code"]
        await self._token(code)
        await self._post("/api/onboarding/core_config", {})
        await self._post("/api/onboarding/analytics", {})
        await self._post(
            "/api/onboarding/integration",
            {"client_id": self.client_id, "redirect_uri": self.client_id},
        )

    async def login(self, username: str, password: str) -> None:
        """Log in through the login flow the frontend uses."""
        flow = await self._post(
            "/auth/login_flow",
            {
                "client_id": self.client_id,
                "handler": ["homeassistant", None],
                "redirect_uri": self.client_id,
            },
            auth=False,
        )
        result = await self._post(
            f"/auth/login_flow/{flow['flow_id']}",
            {"client_id": self.client_id, "username": username, "password": password},
            auth=False,
        )
        if result.get("type") != "create_entry":
            raise SetupError(f"cannot log in as {username}: {result.get('errors')}")
        await self._token(result["result"])

    async def onboard_or_login(
        self, username: str = DEMO_USERNAME, password: str = DEMO_PASSWORD
    ) -> None:
        if await self.onboarded():
            await self.login(username, password)
        else:
            await self.onboard(username, password, DEMO_NAME)

    async def _token(self, code: str) -> None:
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "client_id": self.client_id,
        }
        async with self.session.post(f"{self.url}/auth/token", data=form) as resp:
            if resp.status != 200:
                raise SetupError(f"no token: {resp.status} {await resp.text()}")
            self.token = (await resp.json())["access_token"]

    async def _post(self, path: str, body: Json, *, auth: bool = True) -> Json:
        headers = {"Authorization": f"Bearer {self.token}"} if auth else {}
        async with self.session.post(
            f"{self.url}{path}", json=body, headers=headers
        ) as resp:
            if resp.status >= 400:
                raise SetupError(f"{path}: {resp.status} {await resp.text()}")
            answer: Json = await resp.json()
            return answer

    async def get(self, path: str) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"}
        async with self.session.get(f"{self.url}{path}", headers=headers) as resp:
            if resp.status >= 400:
                raise SetupError(f"{path}: {resp.status} {await resp.text()}")
            return await resp.json()

    # -- flows ---------------------------------------------------------------------
    async def config_flow(self, kind: str, wizard: Wizard) -> Json:
        """Run WakeHub's config flow for `kind` (its menu choice) to its end."""
        base = "/api/config/config_entries/flow"
        result = await self._post(base, {"handler": DOMAIN})
        if result.get("type") == "menu":
            result = await self._post(
                f"{base}/{result['flow_id']}", {"next_step_id": kind}
            )
        return await self._drive(base, result, wizard)

    async def subentry_reconfigure(
        self, entry_id: str, subentry_type: str, subentry_id: str, wizard: Wizard
    ) -> Json:
        """Run a subentry's reconfigure flow (its Reconfigure in the UI) to its end."""
        base = "/api/config/config_entries/subentries/flow"
        body = {"handler": [entry_id, subentry_type], "subentry_id": subentry_id}
        result = await self._post(base, body)
        return await self._drive(base, result, wizard)

    async def options_flow(self, entry_id: str, wizard: Wizard) -> Json:
        base = "/api/config/config_entries/options/flow"
        result = await self._post(base, {"handler": entry_id})
        return await self._drive(base, result, wizard)

    async def _drive(self, base: str, result: Json, wizard: Wizard) -> Json:
        for _ in range(12):  # a wizard is a handful of steps, never a loop
            kind = result.get("type")
            if kind not in ("form", "menu"):
                return result
            if result.get("errors"):
                raise SetupError(f"step {result['step_id']}: {result['errors']}")
            answer = await wizard.answer(result)
            result = await self._post(f"{base}/{result['flow_id']}", answer)
        raise SetupError(f"the flow did not end: {result}")

    async def call_service(self, domain: str, service: str, data: Json) -> None:
        await self._post(f"/api/services/{domain}/{service}", data)

    async def template(self, text: str) -> str:
        """Render a template (e.g. `integration_entities('wakehub')`)."""
        headers = {"Authorization": f"Bearer {self.token}"}
        async with self.session.post(
            f"{self.url}/api/template", json={"template": text}, headers=headers
        ) as resp:
            if resp.status >= 400:
                raise SetupError(f"template: {resp.status} {await resp.text()}")
            return await resp.text()

    async def entries(self) -> list[Json]:
        found: list[Json] = await self.get(
            f"/api/config/config_entries/entry?domain={DOMAIN}"
        )
        return found

    async def device_attr(self, switch: str, attribute: str) -> Any:
        """An attribute of the device whose power switch is `switch` (None if unset)."""
        text = await self.template(
            f"{{{{ device_attr(device_id('{switch}'), '{attribute}') | tojson }}}}"
        )
        return json.loads(text)

    async def command(self, message: Json) -> Any:
        """One command over the websocket API (what the frontend sends)."""
        async with self.session.ws_connect(f"{self.url}/api/websocket") as ws:
            await ws.receive_json()  # auth_required
            await ws.send_json({"type": "auth", "access_token": self.token})
            if (await ws.receive_json()).get("type") != "auth_ok":
                raise SetupError("websocket: authentication refused")
            await ws.send_json({"id": 1, **message})
            answer: Json = await ws.receive_json()
        if not answer.get("success"):
            raise SetupError(f"{message['type']}: {answer.get('error')}")
        return answer.get("result")

    async def subentry_id(self, entry_id: str, title: str) -> str:
        """The id of the subentry of `entry_id` titled `title`."""
        subentries = await self.command(
            {"type": "config_entries/subentries/list", "entry_id": entry_id}
        )
        for subentry in subentries:
            if subentry["title"] == title:
                return str(subentry["subentry_id"])
        raise SetupError(f"no subentry {title} in {entry_id}")

    async def power_switch(self, name: str) -> str:
        """The entity id of the WakeHub power switch named `name` (the device's
        name: the switch is the device's main entity)."""
        for state in await self.get("/api/states"):
            if state["entity_id"].startswith("switch.") and (
                state["attributes"].get("friendly_name") == name
            ):
                return str(state["entity_id"])
        raise SetupError(f"no power switch named {name}")


@dataclass
class Wizard:
    """What a person types: values per field, all resources offered, and what
    to do before submitting a step (hooks by step id)."""

    values: Mapping[str, Any]
    hooks: Mapping[str, StepHook] = field(default_factory=dict)
    #: Send back what a form shows already (a settings form: what is not
    #: typed stays as it was, as when a person submits it untouched).
    keep_shown: bool = False

    async def answer(self, step: Json) -> Json:
        if step["type"] == "menu":
            return {"next_step_id": _forward(step["menu_options"])}
        if hook := self.hooks.get(step["step_id"]):
            await hook(step)
        answer: Json = {}
        for item in step.get("data_schema") or []:
            name = item["name"]
            if name in self.values:
                answer[name] = self.values[name]
            elif name == "resources":
                answer[name] = [o["value"] for o in _options(item)]
            elif self.keep_shown and (shown := _shown(item)) is not None:
                answer[name] = shown
        return answer


def _forward(options: list[str] | dict[str, str]) -> str:
    """The menu choice that goes on (trust, add), not back or cancel."""
    names = list(options)
    for name in names:
        if "trust" in name or "confirm" in name:
            return name
    return next(n for n in names if "cancel" not in n and "back" not in n)


def _shown(item: Json) -> Any:
    """What a form field shows before anything is typed: its suggested value,
    else its default (None: empty)."""
    suggested = (item.get("description") or {}).get("suggested_value")
    return suggested if suggested is not None else item.get("default")


def _options(item: Json) -> list[Json]:
    select = (item.get("selector") or {}).get("select") or {}
    options = select.get("options") or []
    # Stacks are offered next to their containers: the containers are enough.
    return [
        o
        for o in options
        if isinstance(o, dict) and not str(o["value"]).startswith("stack:")
    ]
