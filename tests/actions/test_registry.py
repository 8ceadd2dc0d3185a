"""The action server serves exactly the custom actions domain.yml names."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import actions
from rasa_sdk import Action


def implemented_actions() -> dict:
    found = {}
    for module_info in pkgutil.iter_modules(actions.__path__):
        module = importlib.import_module(f"actions.{module_info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, Action) and not inspect.isabstract(cls) and cls.__module__ == module.__name__:
                found.setdefault(cls().name(), []).append(f"{module.__name__}.{cls.__name__}")
    return found


def test_every_custom_action_of_the_domain_is_implemented_once(domain):
    found = implemented_actions()
    assert {name: places for name, places in found.items() if len(places) > 1} == {}
    custom = {name for name in domain["actions"] if not name.startswith("utter_")}
    assert custom == set(found)
