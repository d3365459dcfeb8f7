"""Choosing the provider named by GIFTCARD_PROVIDER."""

from __future__ import annotations

from giftcard_connector.providers.base import GiftCardProvider
from giftcard_connector.providers.mock import MockProvider
from giftcard_connector.settings import ProviderName, Settings


def build_provider(settings: Settings) -> GiftCardProvider:
    if settings.GIFTCARD_PROVIDER is ProviderName.LEDGER:
        from giftcard_connector.providers.ledger import LedgerProvider

        assert settings.LEDGER_URL is not None and settings.LEDGER_API_KEY is not None  # load_settings checks
        return LedgerProvider(
            base_url=settings.url("LEDGER_URL"),
            api_key=settings.LEDGER_API_KEY,
            timeout=settings.PROVIDER_TIMEOUT,
        )
    return MockProvider(currency=settings.MOCK_CONNECTOR_CURRENCY)
