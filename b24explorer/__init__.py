"""b24explorer — a desktop explorer for the Bitrix24 REST API."""

__version__ = "0.1.0"
