import secrets

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandError

from monographs.workflow import author_for

DEMO = [
    ("author", "Ada Author", "Authors"),
    ("proofreader", "Priya Proofreader", "Proof-readers"),
    ("publisher", "Paul Publisher", "Publishers"),
]


class Command(BaseCommand):
    help = "Development only: one staff account per editorial role, with generated passwords printed once."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("Demo accounts are for development only; run with DEBUG=true.")
        for username, full_name, group in DEMO:
            password = secrets.token_urlsafe(12)
            first, last = full_name.split(" ", 1)
            user, _ = User.objects.get_or_create(username=username)
            user.first_name, user.last_name, user.is_staff = first, last, True
            user.set_password(password)
            user.save()
            user.groups.set([Group.objects.get(name=group)])
            author_for(user)
            self.stdout.write(f"{group:<14} {username:<12} {password}")
