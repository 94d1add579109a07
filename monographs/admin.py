from django.contrib import admin

from .models import (
    FAQ,
    Alias,
    Author,
    BrandName,
    Comparison,
    ComparisonAttribute,
    ComparisonSubject,
    Credit,
    Drug,
    DrugClass,
    LegacyPath,
    Monograph,
    Revision,
    WorkflowEvent,
)


@admin.register(DrugClass)
class DrugClassAdmin(admin.ModelAdmin):
    list_display = ["name", "parent"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


class AliasInline(admin.TabularInline):
    model = Alias
    extra = 0
    prepopulated_fields = {"slug": ["name"]}


class BrandNameInline(admin.TabularInline):
    model = BrandName
    extra = 0
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Drug)
class DrugAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "is_banned"]
    list_filter = ["is_banned", "classes"]
    search_fields = ["name", "aliases__name", "brands__name"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["classes"]
    inlines = [BrandNameInline, AliasInline]


@admin.register(Author)
class AuthorAdmin(admin.ModelAdmin):
    list_display = ["name", "user"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}
    raw_id_fields = ["user"]


class LegacyPathInline(admin.TabularInline):
    model = LegacyPath
    extra = 0


class RevisionInline(admin.TabularInline):
    model = Revision
    fields = ["number", "title", "status", "updated_at", "published_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Monograph)
class MonographAdmin(admin.ModelAdmin):
    list_display = ["slug", "drug", "kind", "is_primary", "next_review"]
    list_filter = ["kind", "is_primary"]
    search_fields = ["slug", "drug__name", "revisions__title"]
    readonly_fields = ["source_key"]
    inlines = [LegacyPathInline, RevisionInline]


class CreditInline(admin.TabularInline):
    model = Credit
    extra = 0
    autocomplete_fields = ["author"]


class FAQInline(admin.StackedInline):
    model = FAQ
    extra = 0


class EventInline(admin.TabularInline):
    model = WorkflowEvent
    fields = ["sequence", "from_status", "to_status", "actor", "comment", "at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Revision)
class RevisionAdmin(admin.ModelAdmin):
    list_display = ["__str__", "title", "status", "updated_at", "published_at"]
    list_filter = ["status", "monograph__kind"]
    search_fields = ["title", "monograph__slug", "body"]
    readonly_fields = ["status", "version", "source_file", "source_id", "source_format", "source_sha256", "source_meta"]
    inlines = [CreditInline, FAQInline, EventInline]


class SubjectInline(admin.TabularInline):
    model = ComparisonSubject
    extra = 0


class AttributeInline(admin.TabularInline):
    model = ComparisonAttribute
    extra = 0


@admin.register(Comparison)
class ComparisonAdmin(admin.ModelAdmin):
    list_display = ["caption", "slug", "revision"]
    search_fields = ["caption", "slug"]
    inlines = [SubjectInline, AttributeInline]
