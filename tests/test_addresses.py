"""Page addresses are reversed once per process, and are still what `reverse` gives wherever the site is
mounted (monographs/addresses.py): the public pages name a dozen or more each."""

import pytest
from django.template import Context, Template
from django.test import override_settings
from django.urls import reverse, set_script_prefix

from monographs import addresses
from monographs.addresses import address

from . import factories

NAMES = [("monographs:home",), ("monographs:drug", "denosumab"), ("monographs:topic_level", "bone", "detailed")]


@pytest.fixture(autouse=True)
def script_prefix():
    yield
    set_script_prefix("/")


def test_an_address_is_what_reverse_gives():
    for name, *args in NAMES:
        assert address(name, *args) == reverse(name, args=args)


def test_an_address_is_reversed_once(monkeypatch):
    calls = []

    def counted(*args, **kwargs):
        calls.append(args)
        return reverse(*args, **kwargs)

    monkeypatch.setattr(addresses, "reverse", counted)
    addresses._address.cache_clear()
    assert address("monographs:drug", "alendronic-acid") == address("monographs:drug", "alendronic-acid")
    assert address("monographs:drug", "risedronate") == "/drugs/risedronate/"
    assert len(calls) == 2


def test_an_address_follows_the_script_prefix():
    """An app mounted under SCRIPT_NAME (its WSGI server sets the prefix per request)."""
    assert address("monographs:drug", "denosumab") == "/drugs/denosumab/"
    set_script_prefix("/drugref/")
    assert address("monographs:drug", "denosumab") == "/drugref/drugs/denosumab/"
    set_script_prefix("/")
    assert address("monographs:drug", "denosumab") == "/drugs/denosumab/"


def test_an_address_follows_the_urlconf():
    assert address("monographs:home") == "/"
    with override_settings(ROOT_URLCONF="tests.mounted_urls"):  # Django replaces the resolver
        assert address("monographs:home") == reverse("monographs:home") == "/reference/"
    assert address("monographs:home") == "/"


def test_the_template_tag_writes_what_the_url_tag_writes():
    template = Template(
        "{% load addresses %}{% address 'monographs:drug' slug %}|{% url 'monographs:drug' slug %}|"
        "{% address 'monographs:search' %}"
    )
    first, second, search = template.render(Context({"slug": "a-b"})).split("|")
    assert first == second == "/drugs/a-b/" and search == "/search/"


@pytest.mark.django_db
def test_model_addresses_are_the_reversed_ones():
    drug = factories.drug("Alendronic acid", classes=["Bisphosphonates"])
    monograph = factories.monograph(drug)
    assert drug.get_absolute_url() == reverse("monographs:drug", args=["alendronic-acid"])
    assert monograph.get_absolute_url() == drug.get_absolute_url()
    assert drug.classes.get().get_absolute_url() == reverse("monographs:class", args=["bisphosphonates"])
