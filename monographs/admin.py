"""The editors' workspace.  Workflow buttons and actions call the model methods; refusals become messages."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import HttpResponseNotAllowed, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.defaultfilters import pluralize
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.text import slugify

from . import consistency, diff, linkgraph, notifications, presence, proposals, workflow
from .bounds import BODY_LIMIT, FIELD_LIMIT, MarkdownRefused, check_markdown
from .importers.sources import EMBED_MARKER, EMBED_PATTERN, WARNINGS_KEY
from .links import broken_links
from .middleware import frameable_by_self
from .models import (
    FAQ,
    Alias,
    Author,
    BrandName,
    Comparison,
    Credit,
    Drug,
    DrugClass,
    LegacyPath,
    Monograph,
    ProposedChange,
    Revision,
    Topic,
    WorkflowEvent,
)
from .views import monograph_page

S = Revision.Status


class ProposeChanges:
    """Saving an existing drug, class or monograph proposes the change instead of making it.

    Every field here is something readers see (names, brands, aliases, classes, the ban notice, a
    monograph's address, drug and primary flag), so it changes only when someone other than the
    proposer approves it (monographs/workflow.py).  Creating one is direct: nothing new is public
    until a revision about it is published, and that is proof-read.
    """

    change_form_template = "admin/monographs/propose_change_form.html"
    PROPOSAL_NOTE = "proposal_note"

    def get_form(self, request, obj=None, **kwargs):
        if obj is not None:
            note = forms.CharField(
                label="Why (for the reviewer)",
                required=False,
                widget=forms.Textarea(attrs={"rows": 2, "cols": 80}),
                help_text="Your change takes effect only when someone else approves it.",
            )
            base = kwargs.get("form", self.form)
            kwargs["form"] = type(f"Propose{base.__name__}", (base,), {self.PROPOSAL_NOTE: note})
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        fields = [f for f in super().get_fields(request, obj) if f != self.PROPOSAL_NOTE]
        return fields + [self.PROPOSAL_NOTE] if obj is not None else fields

    def has_delete_permission(self, request, obj=None):
        return False  # removing what readers see is a change like any other; nothing is deleted here

    def save_model(self, request, obj, form, change):
        if not change:
            super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        if not change:
            return super().save_related(request, form, formsets, change)
        after = proposals.snapshot_from_forms(form.instance, form, formsets)
        try:
            request._drugref_proposal = workflow.propose(
                form.instance, after, request.user, form.cleaned_data.get(self.PROPOSAL_NOTE, "")
            )
        except workflow.WorkflowError as exc:
            self.message_user(request, str(exc), messages.WARNING)

    def construct_change_message(self, request, form, formsets, add=False):
        if add:
            return super().construct_change_message(request, form, formsets, add)
        return [{"changed": {"fields": ["(proposed, awaiting approval)"]}}]  # nothing was saved

    def log_change(self, request, obj, message):
        proposal = getattr(request, "_drugref_proposal", None)
        if proposal is not None:
            return super().log_change(request, obj, f"Proposed a change (awaiting approval): {proposal.uuid}")
        return None

    def response_change(self, request, obj):
        proposal = getattr(request, "_drugref_proposal", None)
        if proposal is None:
            return HttpResponseRedirect(request.path)
        self.message_user(
            request,
            f"Your change to {obj} is proposed. Readers see it once someone else approves it.",
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:monographs_proposedchange_change", args=[proposal.pk]))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        target = proposals.target_of(self.model())
        pending = ProposedChange.objects.awaiting().filter(target=target, object_id=object_id)
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), "pending": pending})


@admin.register(DrugClass)
class DrugClassAdmin(ProposeChanges, admin.ModelAdmin):
    list_display = ["name", "parent"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


class ProposedRows:
    """A drug's brand and alias rows are part of a proposed change: removing one is proposed like any edit."""

    def has_delete_permission(self, request, obj=None):
        return obj is not None and request.user.has_perm("monographs.propose_change")


class AliasInline(ProposedRows, admin.TabularInline):
    model = Alias
    extra = 0
    prepopulated_fields = {"slug": ["name"]}


class BrandNameInline(ProposedRows, admin.TabularInline):
    model = BrandName
    extra = 0
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Drug)
class DrugAdmin(ProposeChanges, admin.ModelAdmin):
    list_display = ["name", "slug", "is_banned"]
    list_filter = ["is_banned", "classes"]
    search_fields = ["name", "aliases__name", "brands__name"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["classes"]
    inlines = [BrandNameInline, AliasInline]
    change_form_template = "admin/monographs/drug/change_form.html"

    def get_urls(self):
        view = self.admin_site.admin_view(self.retire_view)
        return [path("<int:pk>/retire/", view, name="monographs_drug_retire")] + super().get_urls()

    def retire_view(self, request, pk):
        """Retiring a drug takes every live monograph of it off the site (workflow.retire_drug).  The
        confirmation lists them and the links in other live monographs that lead to them, with what will
        answer each once they are gone."""
        drug = get_object_or_404(Drug, pk=pk)
        if not request.user.has_perm("monographs.publish_revision"):
            raise PermissionDenied
        if request.method == "POST":
            if not request.POST.get("confirm_retire"):
                self.message_user(request, "Tick the box to confirm that the drug is retired.", messages.ERROR)
                return HttpResponseRedirect(request.path)
            try:
                revisions = workflow.retire_drug(drug, request.user, request.POST.get("comment", ""))
            except workflow.WorkflowError as exc:
                self.message_user(request, str(exc), messages.ERROR)
                return HttpResponseRedirect(request.path)
            self.message_user(
                request,
                f"{drug} is retired: {len(revisions)} monograph{pluralize(len(revisions))} unpublished.",
                messages.SUCCESS,
            )
            return HttpResponseRedirect(reverse("admin:monographs_drug_change", args=[drug.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Retire {drug}",
            "opts": self.model._meta,
            "drug": drug,
            "live_monographs": list(linkgraph.live_monographs_of(drug)),
            "left_dangling": linkgraph.if_retired(drug),
        }
        return TemplateResponse(request, "admin/monographs/drug/retire.html", context)


@admin.register(Topic)
class TopicAdmin(ProposeChanges, admin.ModelAdmin):
    """A topic's name and address are what readers see, so a change to them is proposed like a drug's.
    Its reading levels are monographs (choose the topic on the monograph)."""

    list_display = ["name", "slug", "levels"]
    search_fields = ["name", "slug", "monographs__revisions__title"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["source_key", "levels"]

    @admin.display(description="reading levels")
    def levels(self, obj):
        found = [f"{m.level}. {m.get_level_display()} ({m.slug})" for m in obj.monographs.order_by("level")]
        return "; ".join(found) or "—"


@admin.register(Author)
class AuthorAdmin(admin.ModelAdmin):
    list_display = ["name", "user"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}
    raw_id_fields = ["user"]


# ------------------------------------------------------------------------------------------------
# Monographs


class ReviewDueFilter(admin.SimpleListFilter):
    title = "review"
    parameter_name = "review"

    def lookups(self, request, model_admin):
        return [("overdue", "Overdue"), ("due30", "Due within 30 days")]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "overdue":
            return queryset.filter(next_review__lt=today)
        if self.value() == "due30":
            return queryset.filter(next_review__gte=today, next_review__lte=today + dt.timedelta(days=30))
        return queryset


class LegacyPathInline(ProposedRows, admin.TabularInline):
    model = LegacyPath
    extra = 0


class RevisionInline(admin.TabularInline):
    model = Revision
    fields = ["number", "title", "status", "updated_at", "published_at", "change_note"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name_plural = "revisions (history)"

    def has_add_permission(self, request, obj=None):
        return False


class NewMonographForm(forms.ModelForm):
    """One screen for a new monograph: its drug (chosen, or typed when drugref does not have it yet), the
    first draft's title and body; the address is filled from the title and a drug's first monograph is its
    primary one unless the editor says otherwise."""

    new_drug = forms.CharField(
        label="…or a new drug (INN)",
        max_length=200,
        required=False,
        help_text="Type the INN of a drug drugref does not have yet (an INN it has picks that drug).",
    )
    title = forms.CharField(max_length=300, help_text="Title of the first draft")
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 12}),
        required=False,
        help_text="Markdown. You can also write it in the draft after saving.",
    )

    class Meta:
        model = Monograph
        fields = ["drug", "topic", "level", "slug", "kind", "is_primary", "review_interval_months"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.pending_drug = None
        self.fields["slug"].required = False
        self.fields["slug"].help_text = "The monograph's address; filled from the title when left empty."
        self.fields["is_primary"].help_text = "Shown on the drug's own page; a drug's first monograph always is."

    def clean(self):
        data = super().clean()
        name = " ".join(data.get("new_drug", "").split())
        if name and (data.get("drug") or data.get("topic")):
            self.add_error("new_drug", "Choose a drug (or a topic) or type a new drug's name, not both.")
        elif name:
            existing = Drug.objects.filter(name__iexact=name).first()
            if existing is not None:
                data["drug"] = existing
            else:
                drug = Drug(name=name, slug=slugify(name))
                try:
                    drug.full_clean()
                except ValidationError as exc:
                    self.add_error("new_drug", f"“{name}” cannot be a new drug: {' '.join(exc.messages)}")
                else:
                    self.pending_drug = drug
        if not data.get("slug") and data.get("title"):
            data["slug"] = _free_slug(slugify(data["title"])[:190] or "monograph")
        drug = data.get("drug")
        if self.pending_drug is not None or (
            drug is not None and not Monograph.objects.filter(drug=drug, is_primary=True).exists()
        ):
            data["is_primary"] = True
        return data

    def _get_validation_exclusions(self):
        exclude = super()._get_validation_exclusions()
        if self.pending_drug is not None:
            exclude.add("drug")  # saved with the monograph, in the same transaction (workflow.create_monograph)
        return exclude


def _free_slug(base: str) -> str:
    slug, n = base, 1
    while Monograph.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@admin.register(Monograph)
class MonographAdmin(ProposeChanges, admin.ModelAdmin):
    list_display = ["slug", "drug", "topic", "level", "kind", "is_primary", "live", "next_review"]
    list_filter = [ReviewDueFilter, "kind", "is_primary", "level"]
    search_fields = [
        *("slug", "drug__name", "drug__brands__name", "drug__aliases__name", "topic__name", "revisions__title")
    ]
    readonly_fields = ["source_key", "next_review"]
    inlines = [LegacyPathInline, RevisionInline]
    change_form_template = "admin/monographs/monograph/change_form.html"

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = NewMonographForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["drug", "new_drug", "topic", "level", "title", "slug", "kind", "is_primary"] + [
                "review_interval_months",
                "body",
            ]
        fields = ["drug", "topic", "level", "slug", "kind", "is_primary", "review_interval_months"]
        fields += ["next_review", "source_key"]
        return fields + [self.PROPOSAL_NOTE]

    @admin.display(description="live revision")
    def live(self, obj):
        revision = obj.live_revision
        return f"r{revision.number}" if revision else "—"

    def view_on_site(self, obj):
        """The public page while something is live; else the preview of the newest revision."""
        if obj.live_revision is not None:
            return obj.get_absolute_url()
        newest = obj.revisions.order_by("-number").first()
        return reverse("admin:monographs_revision_preview", args=[newest.pk]) if newest else None

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)  # a proposal (ProposeChanges)
        new_drug = getattr(form, "pending_drug", None)
        if new_drug is not None and not request.user.has_perm("monographs.add_drug"):
            raise PermissionDenied("You do not have permission to add drugs: choose one drugref has.")
        try:
            workflow.create_monograph(
                request.user, form.cleaned_data["title"], obj, body=form.cleaned_data.get("body", ""), drug=new_drug
            )
        except workflow.WorkflowError as exc:
            raise PermissionDenied(str(exc)) from exc

    def response_add(self, request, obj, post_url_continue=None):
        draft = obj.revisions.get()
        self.message_user(
            request,
            f"“{draft.title}” is created with its first draft. Write it here, then press “Save and submit for "
            "review” when it is ready: nothing is public until a proof-reader approves it and a publisher "
            "publishes it.",
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:monographs_revision_change", args=[draft.pk]))

    def get_urls(self):
        return [
            path("<int:pk>/edit/", self.admin_site.admin_view(self.edit_view), name="monographs_monograph_edit"),
        ] + super().get_urls()

    def edit_view(self, request, pk):
        """Open the monograph's draft, creating it from the live revision when there is none (POST)."""
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:monographs_monograph_change", args=[pk]))
        monograph = get_object_or_404(Monograph, pk=pk)
        try:
            draft = monograph.start_draft(request.user)
        except workflow.WorkflowError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return HttpResponseRedirect(reverse("admin:monographs_monograph_change", args=[pk]))
        return HttpResponseRedirect(reverse("admin:monographs_revision_change", args=[draft.pk]))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        events = WorkflowEvent.objects.filter(revision__monograph_id=object_id).select_related("revision", "actor")
        monograph = Monograph.objects.filter(pk=object_id).first()
        extra_context = {
            **(extra_context or {}),
            "events": events.order_by("-at", "-sequence"),
            "open_revision": workflow.open_revision(monograph) if monograph else None,
            "links_here": linkgraph.linking_to(monograph) if monograph else [],
        }
        return super().change_view(request, object_id, form_url, extra_context)


# ------------------------------------------------------------------------------------------------
# Revisions


class EditableWhileDraft:
    """Inline rows of a revision can change only while the revision is a draft."""

    def _editable(self, request, obj) -> bool:
        return obj is not None and obj.is_editable and request.user.has_perm("monographs.change_revision")

    def has_add_permission(self, request, obj=None):
        return self._editable(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._editable(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._editable(request, obj)


def bounded_markdown(text: str, label: str, limit: int = FIELD_LIMIT) -> str:
    """`text`, or a form error naming the field when it is beyond what drugref renders (monographs/bounds.py)."""
    try:
        check_markdown(text, label, limit)
    except MarkdownRefused as exc:
        raise ValidationError(str(exc)) from None
    return text


class FAQForm(forms.ModelForm):
    def clean_answer(self):
        return bounded_markdown(self.cleaned_data["answer"], "The answer")


class FAQInline(EditableWhileDraft, admin.StackedInline):
    model = FAQ
    form = FAQForm
    extra = 0
    fields = ["position", "question", "answer"]


class AuthorCreditForm(forms.ModelForm):
    class Meta:
        model = Credit
        fields = ["author", "position"]

    def save(self, commit=True):
        self.instance.role = Credit.Role.AUTHOR  # proof-reader credits come only from approvals
        return super().save(commit)


class AuthorCreditFormSet(forms.BaseInlineFormSet):
    """An editor may add credits, and remove (or replace) only their own: a byline says who wrote what."""

    user = None

    def clean(self):
        super().clean()
        for form in self.initial_forms:
            credit = form.instance
            removed = form.cleaned_data.get("DELETE") if hasattr(form, "cleaned_data") else False
            replaced = "author" in form.changed_data
            if (removed or replaced) and credit.author.user_id != getattr(self.user, "pk", None):
                raise ValidationError(
                    f"You may remove only your own credit; {credit.author.name} stays credited "
                    "(ask them, or an editor who is them, to remove it)."
                )


class AuthorCreditInline(EditableWhileDraft, admin.TabularInline):
    model = Credit
    form = AuthorCreditForm
    formset = AuthorCreditFormSet
    extra = 0
    verbose_name = "credited author"
    verbose_name_plural = "credited authors (proof-readers are credited by their approval, never typed)"
    autocomplete_fields = ["author"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(role=Credit.Role.AUTHOR)

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.user = request.user
        return formset


class ComparisonForm(forms.ModelForm):
    """A whole table as rows of `|`-separated cells: header row of subjects, then one row per attribute."""

    grid = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 10, "cols": 100, "class": "vLargeTextField"}),
        help_text="First row: an empty cell, then the subjects.  Each further row: the attribute, then one "
        "cell per subject.  Separate cells with |; write \\| for a literal bar.",
    )

    class Meta:
        model = Comparison
        fields = ["slug", "caption", "grid", "footnotes"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["grid"].initial = self.instance_grid(self.instance)

    @staticmethod
    def instance_grid(comparison: Comparison) -> str:
        def row(cells):
            return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"

        lines = [row([""] + [s.label for s in comparison.subjects.all()])]
        for attribute, cells in comparison.rows():
            lines.append(row([attribute.label] + [cell.text if cell else "" for cell in cells]))
        return "\n".join(lines)

    @staticmethod
    def parse_grid(text: str) -> tuple[list[str], list[tuple[str, list[str]]]]:
        rows = []
        for number, line in enumerate(text.splitlines(), start=1):
            line = line.strip()
            if not line or set(line) <= set("|-: "):
                continue
            cells = [c.strip().replace("\0", "|") for c in line.replace("\\|", "\0").strip("|").split("|")]
            rows.append((number, cells))
        if len(rows) < 2:
            raise ValidationError("A table needs a header row of subjects and at least one attribute row.")
        header = rows[0][1]
        subjects = header[1:]
        if not subjects or not all(subjects):
            raise ValidationError("Every column after the first needs a subject in the header row.")
        attributes = []
        for number, cells in rows[1:]:
            if len(cells) != len(header):
                raise ValidationError(f"Line {number} has {len(cells)} cells; the header row has {len(header)}.")
            if not cells[0]:
                raise ValidationError(f"Line {number} needs an attribute name in its first cell.")
            attributes.append((cells[0], cells[1:]))
        return subjects, attributes

    def clean_slug(self):
        """/compare/<slug>/ shows one table: a slug another monograph's table has would hand that address,
        and the links to it from the other monograph's page, to whichever of the two is read first."""
        slug = self.cleaned_data["slug"]
        if not EMBED_PATTERN.fullmatch(EMBED_MARKER.format(slug=slug)):
            # The body names the table by `[[comparison:<slug>]]`, which the renderer reads only so written.
            raise ValidationError("Use lower-case letters, digits and hyphens only (the body's marker names it).")
        if self.instance.revision_id is not None:
            other = (
                Comparison.objects.filter(slug=slug)
                .exclude(revision__monograph_id=self.instance.revision.monograph_id)
                .select_related("revision__monograph")
                .first()
            )
            if other is not None:
                raise ValidationError(
                    f"/compare/{slug}/ is the address of a table of the monograph {other.revision.monograph.slug}; "
                    "choose another slug."
                )
        return slug

    def clean_grid(self):
        self.parsed = self.parse_grid(self.cleaned_data["grid"])
        for attribute, cells in self.parsed[1]:
            for subject, cell in zip(self.parsed[0], cells, strict=True):
                bounded_markdown(cell, f"The cell “{attribute}” × “{subject}”")
        return self.cleaned_data["grid"]

    def clean_footnotes(self):
        return bounded_markdown(self.cleaned_data["footnotes"], "The footnote text")

    def save(self, commit=True):
        comparison = super().save(commit)
        if commit:
            self.save_grid(comparison)
        return comparison

    def save_grid(self, comparison):
        from .importers.loader import write_table

        write_table(comparison, *self.parsed)


class ComparisonInline(EditableWhileDraft, admin.StackedInline):
    """A new table and a changed one alike are written by ComparisonForm.save, grid included."""

    model = Comparison
    form = ComparisonForm
    extra = 0


class EventInline(admin.TabularInline):
    model = WorkflowEvent
    fields = ["sequence", "at", "actor", "from_status", "to_status", "comment"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "workflow history"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@dataclass
class Clash:
    """What the merge view shows after a save clash: the version saved since, and each field that differs."""

    version: int
    updated_at: dt.datetime
    saved_by: str  # who made the last edit, as far as the history says
    fields: list[dict]


def _plain(text) -> str:
    return (text or "").replace("\r\n", "\n").strip()


class RevisionForm(forms.ModelForm):
    """A draft's fields, saved only against the version the editor read (workflow.save_draft).

    On a clash the form is shown again with `clash` set: the template shows the editor's text, the saved
    text and the diff, and three buttons post `_merge` with the version read at the clash (`merge_version`).
    Taking mine or saving the edited merge is checked against that version, so a merge made stale by a
    third save clashes again.
    """

    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    clash: Clash | None = None

    class Meta:
        model = Revision
        fields = ["title", "summary", "body", "change_note"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["expected_version"].initial = self.instance.version

    def clean_body(self):
        return bounded_markdown(self.cleaned_data["body"], "The body", BODY_LIMIT)

    def clean_summary(self):
        return bounded_markdown(self.cleaned_data["summary"], "The summary")

    def _merged(self, cleaned: dict) -> None:
        """The edited merge (`merged_<field>`) in place of the form's fields, checked as the fields are."""
        limits = {"body": BODY_LIMIT, "summary": FIELD_LIMIT}
        for name in workflow.EDITABLE_FIELDS:
            key = f"merged_{name}"
            if key not in self.data:
                continue
            label = str(self.fields[name].label).lower()
            try:
                value = self.fields[name].clean(self.data[key])
            except ValidationError as exc:
                self.add_error(None, ValidationError(f"The merged {label}: {exc.messages[0]}"))
                continue
            try:
                bounded_markdown(value, f"The merged {label}", limits.get(name, FIELD_LIMIT))
            except ValidationError as exc:
                self.add_error(None, exc)
                continue
            cleaned[name] = value

    def clean(self):
        cleaned = super().clean()
        if not (self.instance.pk and self.instance.is_editable):
            return cleaned
        expected = cleaned.get("expected_version")
        choice = self.data.get("_merge")
        if choice in ("mine", "edit"):
            merge_version = self.data.get("merge_version", "")
            expected = int(merge_version) if merge_version.isascii() and merge_version.isdigit() else None
            cleaned["expected_version"] = expected
            if choice == "edit":
                self._merged(cleaned)
        saved = Revision.objects.filter(pk=self.instance.pk).first()
        if saved is not None and (expected is None or expected != saved.version):
            self.clash = self._clash(saved, cleaned)
            raise ValidationError(
                "Someone else saved this draft after you opened it, so your changes were not saved. "
                "Your text is still in the form below; choose, above, to save yours, keep theirs, or merge the two."
            )
        return cleaned

    def _clash(self, saved: Revision, cleaned: dict) -> Clash:
        fields = []
        for name in workflow.EDITABLE_FIELDS:
            mine = cleaned.get(name, self.data.get(name, ""))
            theirs = getattr(saved, name)
            if _plain(mine) != _plain(theirs):  # a browser sends CRLF and the form strips the ends
                html, _numbers = diff.word_diff(theirs or "", mine or "")
                label = str(self.fields[name].label)
                fields.append({"name": name, "label": label, "mine": mine, "saved": theirs, "diff": html})
        last = saved.events.filter(details__action="edit").select_related("actor").order_by("-sequence").first()
        by = (last.actor.get_full_name() or last.actor.get_username()) if last and last.actor else ""
        return Clash(saved.version, saved.updated_at, by, fields)


# What a move did, in an editor's words, after "“Denosumab” r3: ".
DONE = {
    "submit": "submitted for review",
    "withdraw": "withdrawn from review, back to draft",
    "request_changes": "sent back to its author for changes",
    "approve": "approved",
    "withdraw_approval": "approval withdrawn, back to draft",
    "cancel_schedule": "schedule cancelled",
    "publish": "published — readers see it now",
    "unpublish": "unpublished — readers no longer see it",
}


def _editor_time_zone(request) -> zoneinfo.ZoneInfo:
    """The zone the editor's browser reported with the form (admin-revision.js), else the server's."""
    name = request.POST.get("time_zone", "")
    try:
        return zoneinfo.ZoneInfo(name) if name and len(name) < 64 else timezone.get_default_timezone()
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return timezone.get_default_timezone()


THREAD_VERBS = {
    "submit": "submitted",
    "withdraw": "withdrew the submission",
    "request_changes": "requested changes",
    "approve": "approved",
    "withdraw_approval": "withdrew the approval",
    "publish": "published",
    "unpublish": "unpublished",
    "revert": "restored",
}


def _conversation(revision: Revision) -> dict:
    """The revision's comments as a short thread, and the change request a sent-back draft answers."""
    events = list(revision.events.select_related("actor").order_by("sequence"))
    thread = [
        (event, THREAD_VERBS.get(event.details.get("action", ""), event.details.get("action", "").replace("_", " ")))
        for event in events
        if event.comment.strip() and event.details.get("action") not in ("create", "edit")
    ]
    last = events[-1] if events else None
    sent_back = revision.status == S.DRAFT and last is not None and last.details.get("action") == "request_changes"
    return {"thread": thread, "change_request": last if sent_back else None}


def _run(modeladmin, request, revision: Revision, action: str, *args, **kwargs) -> bool:
    """Call a workflow method; report success or the refusal as a message."""
    try:
        getattr(revision, action)(request.user, *args, **kwargs)
    except workflow.WorkflowError as exc:
        modeladmin.message_user(request, f"r{revision.number} of {revision.monograph.slug}: {exc}", messages.ERROR)
        return False
    return True


@admin.register(Revision)
class RevisionAdmin(admin.ModelAdmin):
    form = RevisionForm
    list_display = ["monograph", "number", "title", "status", "updated_at", "published_at", "publish_at"]
    list_filter = [
        "status",
        "monograph__kind",
        ("credits__author", admin.RelatedOnlyFieldListFilter),
        ("editors", admin.RelatedOnlyFieldListFilter),
    ]
    list_select_related = ["monograph"]
    search_fields = [
        "title",
        "monograph__slug",
        "monograph__drug__name",
        "monograph__drug__brands__name",
        "monograph__drug__aliases__name",
        "body",
    ]
    inlines = [AuthorCreditInline, FAQInline, ComparisonInline, EventInline]
    change_form_template = "admin/monographs/revision/change_form.html"
    actions = ["submit_selected", "publish_selected"]  # no bulk approve: approving means having looked
    provenance = ["source_file", "source_id", "source_format", "source_sha256", "source_meta"]

    def has_add_permission(self, request):
        return False  # drafts start from a monograph ("Edit") or with a new monograph

    def view_on_site(self, obj):
        """The public page for the live revision; the preview for anything readers cannot see."""
        if obj.status == S.PUBLISHED:
            return obj.get_absolute_url()
        return reverse("admin:monographs_revision_preview", args=[obj.pk])

    def has_delete_permission(self, request, obj=None):
        return False  # every version is kept

    def has_change_permission(self, request, obj=None):
        # Once submitted a revision never changes: its page is view-only, whoever asks.
        if obj is not None and not obj.is_editable:
            return False
        return super().has_change_permission(request, obj)

    def get_fields(self, request, obj=None):
        fields = ["status_display", "proof_read_by", "title", "summary", "body", "change_note", "expected_version"]
        if obj is not None and obj.source_file:
            fields += self.provenance
        return fields

    def get_readonly_fields(self, request, obj=None):
        readonly = ["status_display", "proof_read_by", *self.provenance]
        if obj is None or not obj.is_editable or not request.user.has_perm("monographs.change_revision"):
            readonly += ["title", "summary", "body", "change_note"]
        return readonly

    @admin.display(description="status")
    def status_display(self, obj):
        text = obj.get_status_display()
        if obj.publish_at:
            text += f" — scheduled for {timezone.localtime(obj.publish_at):%d %b %Y %H:%M}"
        return text

    @admin.display(description="proof-read by")
    def proof_read_by(self, obj):
        return ", ".join(a.name for a in obj.proof_readers) or "—"

    def save_model(self, request, obj, form, change):
        pass  # saved with its inline rows in save_related, so one edit records what changed

    def save_related(self, request, form, formsets, change):
        """Save the draft's fields (version-checked) and then its rows; the editor of content is credited."""
        content = [fs for fs in formsets if fs.model in (FAQ, Comparison) and fs.has_changed()]
        parts = [str(fs.model._meta.verbose_name_plural) for fs in content]
        form.instance.save_draft(request.user, form.cleaned_data.get("expected_version") or 0, parts)
        super().save_related(request, form, formsets, change)

    def response_change(self, request, obj):
        """*Submit for review* posts the whole form: the text is saved first, then submitted."""
        if "_submit" not in request.POST:
            return super().response_change(request, obj)
        back = HttpResponseRedirect(reverse("admin:monographs_revision_change", args=[obj.pk]))
        if _run(self, request, obj, "submit", ""):
            self.message_user(request, f"r{obj.number} is saved and submitted for review.", messages.SUCCESS)
        else:
            self.message_user(request, "Your text is saved as a draft.", messages.INFO)
        return back

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method == "POST" and object_id and request.POST.get("_merge") == "saved":
            # "Keep the saved one": nothing of this editor's is written; the page opens on the saved draft.
            self.message_user(request, "Kept the saved draft; your changes were set aside.", messages.INFO)
            return HttpResponseRedirect(request.path)
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except workflow.EditConflict:
            # Another save won the race between validation and UPDATE; showing the form again makes its
            # validation report the conflict, with this editor's text still in it.
            return super().changeform_view(request, object_id, form_url, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        revision = self.get_object(request, object_id)
        context = dict(extra_context or {})
        if revision is not None:
            live = revision.monograph.revisions.live().first()
            moves = self.available_moves(request, revision)
            context.update(
                {
                    "revision": revision,
                    "live": live,
                    "actions_available": moves,
                    # A live revision too: an import publishes at once, and its missing files are listed here.
                    "broken_links": broken_links(revision)
                    if revision.status in (S.IN_REVIEW, S.APPROVED, S.PUBLISHED)
                    else [],
                    # What unpublishing would leave without its page, and what will answer it, in the form.
                    "left_dangling": linkgraph.if_unpublished([revision.monograph]) if "unpublish" in moves else [],
                    "own_work": workflow.is_own_work(revision, request.user),
                    "editorial_warnings": revision.editorial_warnings(),
                    **_conversation(revision),
                    "server_time_zone": timezone.get_default_timezone_name(),
                    # What the importer changed or could not keep (sources.WARNINGS_KEY in the provenance).
                    # A soft lock: who else has this draft open (monographs/presence.py); it never blocks.
                    "others_here": presence.here(revision.pk, request.user) if revision.is_editable else [],
                    "heartbeat": presence.HEARTBEAT,
                    "import_warnings": (revision.source_meta or {}).get(WARNINGS_KEY, [])
                    if isinstance(revision.source_meta, dict)
                    else [],
                }
            )
        return super().change_view(request, object_id, form_url, context)

    def available_moves(self, request, revision) -> list[str]:
        user = request.user
        moves = [name for name in workflow.REVISION_BUTTONS if workflow.may(revision, name, user)]
        if revision.publish_at is None and "cancel_schedule" in moves:
            moves.remove("cancel_schedule")
        if revision.status in (S.SUPERSEDED, S.UNPUBLISHED, S.PUBLISHED) and user.has_perm(
            "monographs.publish_revision"
        ):
            moves.append("revert")
        return moves

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/workflow/<str:action>/", view(self.workflow_view), name="monographs_revision_workflow"),
            path("<int:pk>/diff/", view(self.diff_view), name="monographs_revision_diff"),
            path("<int:pk>/preview/", view(self.preview_view), name="monographs_revision_preview"),
            path("<int:pk>/presence/", view(self.presence_view), name="monographs_revision_presence"),
        ] + super().get_urls()

    def _revision(self, request, pk) -> Revision:
        revision = get_object_or_404(Revision.objects.select_related("monograph__drug"), pk=pk)
        if not self.has_view_permission(request, revision):
            raise PermissionDenied
        return revision

    def workflow_view(self, request, pk, action):
        """One POST endpoint for every transition; the model method decides, this view only reports."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        revision = self._revision(request, pk)
        back = HttpResponseRedirect(reverse("admin:monographs_revision_change", args=[revision.pk]))
        comment = request.POST.get("comment", "")
        confirm = request.POST.get("confirm_broken_links") == "on"
        if action == "submit":
            done = _run(self, request, revision, "submit", request.POST.get("change_note", ""))
        elif action in ("approve", "request_changes", "unpublish", "withdraw", "withdraw_approval", "cancel_schedule"):
            done = _run(self, request, revision, action, comment)
        elif action == "publish":
            if request.POST.get("confirm_publish") != "on" and workflow.may(revision, "publish", request.user):
                self.message_user(
                    request,
                    f"Nothing published: tick “Yes, publish r{revision.number} of “{revision.title}” now” to confirm.",
                    messages.ERROR,
                )
                return back
            done = _run(self, request, revision, "publish", confirm_broken_links=confirm, comment=comment)
        elif action == "schedule":
            zone = _editor_time_zone(request)
            try:
                with timezone.override(zone):  # the time as the editor typed it, in their zone
                    at = forms.DateTimeField().clean(request.POST.get("publish_at"))
            except ValidationError:  # missing, or not a date and time
                at = None
            if at is None or at <= timezone.now():
                self.message_user(
                    request, "Give a go-live time in the future as a date and time (2027-03-01 09:00).", messages.ERROR
                )
                return back
            done = _run(self, request, revision, "schedule", at, confirm_broken_links=confirm)
            if done:
                when = f"{timezone.localtime(at, zone):%Y-%m-%d %H:%M} {zone.key}"
                self.message_user(request, f"“{revision.title}” r{revision.number}: scheduled for {when}.")
                return back
        elif action == "revert":
            try:
                draft = revision.revert(request.user)
            except workflow.WorkflowError as exc:
                self.message_user(request, str(exc), messages.ERROR)
                return back
            self.message_user(request, f"r{draft.number} is a new draft with the content of r{revision.number}.")
            return HttpResponseRedirect(reverse("admin:monographs_revision_change", args=[draft.pk]))
        else:
            self.message_user(request, f"Unknown action “{action}”.", messages.ERROR)
            return back
        if done:
            self.message_user(request, f"“{revision.title}” r{revision.number}: {DONE[action]}.")
        return back

    def presence_view(self, request, pk):
        """The revision page's heartbeat: record this editor as here; say who else is (a soft lock)."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        revision = self._revision(request, pk)
        others = presence.here(revision.pk, request.user) if revision.is_editable else []
        shown = [{"name": o["name"], "minutes": o["minutes"], "text": o["text"]} for o in others]
        return JsonResponse({"others": shown})

    def diff_view(self, request, pk):
        """The proof-reader's page: the changes, the revision as readers will get it, and the sign-off buttons.

        By default the changes are against what readers see now (the live revision), else against the
        revision this one was copied from, else against nothing; only revisions of the same monograph can
        be compared.
        """
        new = self._revision(request, pk)
        back = HttpResponseRedirect(reverse("admin:monographs_revision_change", args=[new.pk]))
        against = request.GET.get("against", "")
        if against:
            old = (
                new.monograph.revisions.filter(pk=int(against)).first()
                if against.isascii() and against.isdigit()
                else None
            )
            if old is None:
                self.message_user(request, "Only revisions of the same monograph can be compared.", messages.ERROR)
                return back
        else:
            old = new.monograph.revisions.live().exclude(pk=new.pk).first() or new.based_on
        blocks = diff.compare(old or diff.NOTHING, new)  # a first revision is all new, and still proof-read here
        own_work = workflow.is_own_work(new, request.user)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Changes in r{new.number} against r{old.number} — {new.monograph.slug}"
            if old
            else f"r{new.number} of {new.monograph.slug}: all new",
            "opts": self.model._meta,
            "old": old,
            "new": new,
            "blocks": blocks,
            "changed": [b for b in blocks if b.changed],
            "numbers": [(b.label, n) for b in blocks for n in b.numbers_changed],
            "revisions": new.monograph.revisions.order_by("-number"),
            "own_work": own_work,
            "may_review": new.status == S.IN_REVIEW
            and request.user.has_perm("monographs.review_revision")
            and not own_work,
        }
        return TemplateResponse(request, "admin/monographs/revision/diff.html", context)

    @frameable_by_self  # the review page shows it beside the diff, at phone and desktop widths
    def preview_view(self, request, pk):
        revision = self._revision(request, pk)
        revision = Revision.objects.with_content().get(pk=revision.pk)
        return monograph_page(request, revision.monograph, revision, preview=True)

    # List actions call the same model methods and report each refusal.
    def _bulk(self, request, queryset, action, **kwargs):
        done = sum(_run(self, request, revision, action, **kwargs) for revision in queryset)
        if done:
            past = {"submit": "Submitted for review", "publish": "Published"}[action]
            self.message_user(request, f"{past}: {done} revision{pluralize(done)}.")

    @admin.action(description="Submit selected drafts for review (uses their change notes)")
    def submit_selected(self, request, queryset):
        self._bulk(request, queryset, "submit", change_note="")

    @admin.action(description="Publish selected approved revisions")
    def publish_selected(self, request, queryset):
        self._bulk(request, queryset, "publish")


@admin.register(WorkflowEvent)
class WorkflowEventAdmin(admin.ModelAdmin):
    list_display = ["at", "revision", "actor", "from_status", "to_status", "comment"]
    list_filter = ["to_status"]
    search_fields = ["revision__monograph__slug", "comment"]
    list_select_related = ["revision__monograph", "actor"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ProposedChange)
class ProposedChangeAdmin(admin.ModelAdmin):
    """Proposals are made from the drug, class and monograph screens and decided here, never edited."""

    list_display = ["__str__", "target", "status", "proposed_by", "proposed_at", "decided_by", "decided_at"]
    list_filter = ["status", "target"]
    search_fields = ["object_name", "note"]
    list_select_related = ["proposed_by", "decided_by"]
    fields = ["note"]
    readonly_fields = ["note"]
    change_form_template = "admin/monographs/proposedchange/change_form.html"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        view = self.admin_site.admin_view(self.decide_view)
        return [
            path("<int:pk>/decide/<str:action>/", view, name="monographs_proposedchange_decide")
        ] + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        proposal = self.get_object(request, object_id)
        context = dict(extra_context or {})
        if proposal is not None:
            target = proposal.target_object()
            context.update(
                {
                    "changes": proposals.changes(proposal.target, proposal.before, proposal.after),
                    # Before anyone approves a change of address: the links it leaves, and what answers them.
                    "left_dangling": linkgraph.if_changed(target, proposal.before, proposal.after)
                    if target is not None and proposal.status == ProposedChange.Status.PROPOSED
                    else None,
                    "buttons": [a for a in workflow.PROPOSAL_BUTTONS if workflow.may(proposal, a, request.user)],
                    "own_proposal": workflow.is_own_work(proposal, request.user),
                    "events": proposal.events.select_related("actor").order_by("sequence"),
                    "target_url": reverse(f"admin:monographs_{proposal.target}_change", args=[target.pk])
                    if target
                    else None,
                }
            )
        return super().change_view(request, object_id, form_url, context)

    def decide_view(self, request, pk, action):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        proposal = get_object_or_404(ProposedChange, pk=pk)
        if not self.has_view_permission(request, proposal):
            raise PermissionDenied
        back = HttpResponseRedirect(reverse("admin:monographs_proposedchange_change", args=[proposal.pk]))
        decide = {
            "approve_change": workflow.approve_change,
            "reject_change": workflow.reject_change,
            "withdraw_change": workflow.withdraw_change,
        }.get(action)
        if decide is None:
            self.message_user(request, f"Unknown action “{action}”.", messages.ERROR)
            return back
        try:
            decide(proposal, request.user, request.POST.get("comment", ""))
        except workflow.WorkflowError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return back
        self.message_user(request, f"{str(proposal)[0].upper()}{str(proposal)[1:]}.", messages.SUCCESS)
        return back


def dashboard(request) -> dict:
    """What an editor needs on the admin index: work waiting for them, their drafts, what is due."""
    user = request.user
    today = timezone.localdate()
    in_review = Revision.objects.filter(status=S.IN_REVIEW).select_related("monograph")
    drafts = Revision.objects.filter(status=S.DRAFT)
    # A draft is someone's when they edited it or opened it (a revert, an "Edit" not yet saved).
    mine = drafts.filter(Q(editors=user) | Q(created_by=user)).select_related("monograph").distinct()
    open_proposals = ProposedChange.objects.awaiting().select_related("proposed_by")
    return {
        "proposals_awaiting": [p for p in open_proposals if workflow.may(p, "approve_change", user)],
        "my_proposals": [p for p in open_proposals if p.proposed_by_id == user.pk],
        "awaiting_review": [
            (r, r.events.filter(to_status=S.IN_REVIEW).select_related("actor").order_by("-sequence").first())
            for r in in_review
            if not workflow.is_own_work(r, user)
        ]
        if user.has_perm("monographs.review_revision")
        else [],
        "open_drafts": drafts.count(),
        "unread": notifications.unread_count(user),
        "my_drafts": [(r, r.events.order_by("-sequence").first()) for r in mine],
        "scheduled": Revision.objects.filter(status=S.APPROVED, publish_at__isnull=False).select_related("monograph"),
        "approved": Revision.objects.filter(status=S.APPROVED, publish_at__isnull=True).select_related("monograph")
        if user.has_perm("monographs.publish_revision")
        else [],
        "consistency_open": consistency.stored_open_count() if consistency.may_see(user) else None,
        "overdue": Monograph.objects.filter(next_review__lt=today).select_related("drug"),
        "due_soon": Monograph.objects.filter(
            next_review__gte=today, next_review__lte=today + dt.timedelta(days=30)
        ).select_related("drug"),
    }
