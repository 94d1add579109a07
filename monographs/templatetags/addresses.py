"""`{% address 'monographs:drug' slug %}`: `{% url %}` for the public pages' own links, remembered per
process (monographs/addresses.py)."""

from django import template

from ..addresses import address as _address

register = template.Library()


@register.simple_tag(name="address")
def address_tag(viewname, *args):
    return _address(viewname, *args)
