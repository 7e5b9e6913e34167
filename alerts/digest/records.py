"""What one brand's digest says, as plain records that the page, Slack and email render.

Every record carries the numbers it was judged on, so that each claim in the
digest ("spiking", "silent", "repeat complainer") can be shown with its evidence.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from alerts.digest.responses import ResponseSummary


@dataclass
class DayVolume:
    day: date
    negative: int = 0
    neutral: int = 0
    positive: int = 0
    monitored: bool = True  # False before the first mention or source run: no data, not zero

    @property
    def total(self) -> int:
        return self.negative + self.neutral + self.positive

    @property
    def negative_share(self) -> float | None:
        return self.negative / self.total if self.total else None


@dataclass
class IssueLine:
    id: str
    label: str
    today: int
    authors: int
    series: list[int]
    average_before: float | None  # per monitored day shown in the chart
    expected: float | None  # per day, from the spike rule's baseline days (reputation.issues.trends); None warming up
    p_value: float  # of today's posts under that expectation
    first_seen_at: datetime
    new: bool  # first complaint of this issue fell on this day
    enough_people: bool  # at least Criteria.min_people distinct people today
    spiking: bool
    alert_level: bool  # also meets the spike rule's minimum posts and people
    negative_share: float
    examples: list[str]

    @property
    def trend(self) -> str:
        if self.new:
            return "new"
        if self.average_before is None:
            return "flat"
        if self.today >= 1.5 * max(self.average_before, 0.5):
            return "up"
        if self.today <= 0.67 * self.average_before:
            return "down"
        return "flat"

    @property
    def status(self) -> str | None:
        if self.new and self.enough_people:
            return "new"
        return "spiking" if self.spiking else None


@dataclass(frozen=True)
class SpreadLine:
    platform: str
    handle: str | None  # None when the root post was never collected
    text: str
    url: str | None
    size: int  # replies, quotes and reshares so far
    events_on_day: int
    authors: int
    reach: int
    negative_share: float
    predicted_final: float | None
    predicted_low: float | None = None  # the interval that holds the final size 9 times in 10
    predicted_high: float | None = None
    prediction_uncertain: bool | None = None  # too loose to act on: show the range only


@dataclass(frozen=True)
class IncidentLine:
    id: int
    rule: str
    severity: str
    status: str
    title: str
    opened_at: datetime
    minutes_to_alert: float | None
    minutes_to_acknowledge: float | None


@dataclass
class IncidentStats:
    opened: int = 0
    acknowledged: int = 0
    resolved: int = 0
    unresolved_at_end: int = 0
    alert_times: list[float] = field(default_factory=list)  # minutes, incidents opened on the day
    acknowledge_times: list[float] = field(default_factory=list)

    @property
    def minutes_to_alert(self) -> float | None:
        return statistics.median(self.alert_times) if self.alert_times else None

    @property
    def minutes_to_acknowledge(self) -> float | None:
        return statistics.median(self.acknowledge_times) if self.acknowledge_times else None


@dataclass(frozen=True)
class Complainer:
    handle: str
    occasions: int  # distinct threads complained in, as the repeat-complainer rule counts them
    posts: int
    posts_on_day: int
    platforms: list[str]


@dataclass(frozen=True)
class SourceHealth:
    source: str
    enabled: bool
    runs: int
    failed: int
    stored: int
    last_error: str | None
    stored_per_day_before: float | None  # over earlier days on which it ran
    shared: bool  # serves other brands too: `stored` counts theirs as well

    @property
    def status(self) -> str:
        if not self.enabled:
            return "disabled"
        if self.runs == 0:
            return "no runs"
        if self.failed == self.runs:
            return "failing"
        if self.failed:
            return "degraded"
        if self.stored == 0 and (self.stored_per_day_before or 0) >= 1:
            return "silent"
        return "ok"


@dataclass(frozen=True)
class Criteria:
    """The thresholds the digest judged by, shown on the page next to the verdicts."""

    spike_ratio: float
    spike_p_threshold: float
    spike_min_history_days: float
    spike_baseline_days: int
    spike_min_posts: int
    spike_min_authors: int
    min_people: int
    repeat_min_complaints: int
    repeat_window_days: int


@dataclass
class BrandDigest:
    brand: str
    day: date
    timezone: str
    generated_at: datetime
    day_start: datetime  # local midnight, or digest.day_starts_at
    day_end: datetime
    criteria: Criteria
    volumes: list[DayVolume]
    unanalysed: int = 0  # mentions of the day not enriched yet, so missing from sentiment
    unsorted: int = 0  # complaints of the day in no issue yet (too few alike; reputation.issues.granularity)
    issues: list[IssueLine] = field(default_factory=list)
    emerging: list[IssueLine] = field(default_factory=list)
    spreading: list[SpreadLine] = field(default_factory=list)
    incidents: list[IncidentLine] = field(default_factory=list)
    incident_stats: IncidentStats = field(default_factory=IncidentStats)
    repeat_complainers: list[Complainer] = field(default_factory=list)
    health: list[SourceHealth] = field(default_factory=list)
    alerts_retrying: int = 0  # alerts Slack has not taken yet, still in their backoff
    alerts_parked: int = 0  # alerts past max attempts: retried hourly, `reputation outbox retry` resends
    responses: ResponseSummary | None = None  # "How we answered"

    @property
    def today(self) -> DayVolume:
        return self.volumes[-1]

    @property
    def baseline(self) -> list[DayVolume]:
        return [volume for volume in self.volumes[:-1] if volume.monitored]

    @property
    def average_before(self) -> float | None:
        return statistics.fmean(v.total for v in self.baseline) if self.baseline else None

    @property
    def negative_share_before(self) -> float | None:
        total = sum(v.total for v in self.baseline)
        return sum(v.negative for v in self.baseline) / total if total else None

    @property
    def starts_at(self) -> str | None:
        """The local time the day begins, where it is not midnight (`digest.day_starts_at`)."""
        local = self.day_start.astimezone(ZoneInfo(self.timezone))
        return None if (local.hour, local.minute) == (0, 0) else f"{local:%H:%M}"

    @property
    def in_progress(self) -> bool:
        return self.generated_at < self.day_end

    @property
    def has_data(self) -> bool:
        return any(volume.monitored for volume in self.volumes)

    @property
    def unhealthy_sources(self) -> list[SourceHealth]:
        return [source for source in self.health if source.status not in ("ok", "disabled")]

    @property
    def collection_down(self) -> bool:
        """Nothing on this day, and no enabled source ran cleanly on it: missing data, not a quiet day.

        A source that did not run on a day may still have collected it later (cursors
        catch up), so with mentions on the day this is only a warning, not this.
        """
        enabled = [source for source in self.health if source.enabled]
        down = bool(enabled) and all(source.status in ("failing", "no runs") for source in enabled)
        return down and self.today.total + self.unanalysed == 0
