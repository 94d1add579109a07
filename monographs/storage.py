"""Uploaded images in an S3-compatible bucket, for several app servers (settings: AWS_STORAGE_BUCKET_NAME).

django-storages' S3 backend stores and reads the objects; the one change is the address it gives them.
The bucket stays private and every image is still served by drugref at /media/ (monographs.uploads.
serve_media), with the same type allow-list and security headers as from local disk: S3 cannot send
`X-Content-Type-Options` or `Content-Security-Policy`.  So the Markdown an editor's upload writes into a
revision holds drugref's own address, never the bucket's, and moving to another bucket or back to disk
rewrites no content.
"""

from urllib.parse import urljoin

from django.conf import settings
from django.utils.encoding import filepath_to_uri
from storages.backends.s3 import S3Storage


class MediaBucketStorage(S3Storage):
    def url(self, name, parameters=None, expire=None, http_method=None):
        """The image's address under MEDIA_URL, as FileSystemStorage gives it (no signed bucket URL)."""
        return urljoin(settings.MEDIA_URL, filepath_to_uri(name))
