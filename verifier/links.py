"""Fetching the presentation behind a holder's one-time QR link (ARCHITECTURE "Holder-shown QR" ⚑).

Through the one strict fetcher (:mod:`infra.fetch`: scheme and host rules, no
redirects, size and time caps). A link that no longer serves its presentation
fails ``format`` saying why, in the wallet's words when it gave them
(:func:`verifier.wording.gone_link_reason`: used, withdrawn, expired);
a 5xx or no answer is :class:`~infra.errors.RemoteUnreachable` (try again).
"""

from __future__ import annotations

from credentials.errors import FormatError
from infra.errors import FetchError, FetchRefused, UnusableAnswer
from infra.fetch import StrictFetcher
from verifier.wording import LINK_REASON_PREFIX, gone_link_reason

__all__ = ["fetch_presentation_link"]


def fetch_presentation_link(fetcher: StrictFetcher, url: str, *, accept: str) -> str:
    """The text behind ``url``; FormatError when the link cannot be used, RemoteUnreachable when nobody answers."""
    what = "presentation link"
    try:
        answer = fetcher.request("GET", url, headers={"Accept": accept}, what=what)
        if answer.status in (404, 410):  # a one-time link used, withdrawn or expired: the wallet may say which
            raise FormatError(gone_link_reason(answer.status, answer.body))
        if answer.status != 200:
            raise FetchError.of_status(f"{fetcher.check_url(url, what=what).authority} answered HTTP {answer.status}",
                                       answer.status)
        return answer.body.decode("utf-8").strip()
    except (FetchRefused, UnusableAnswer) as exc:
        raise FormatError(f"{LINK_REASON_PREFIX} cannot be used: {exc}") from None
    except UnicodeDecodeError:
        raise FormatError(f"{LINK_REASON_PREFIX} answered with something that is not UTF-8 text") from None
