"""`reputation.yaml`: brands, sources, alert rules and routing, validated.

Secrets never live here: the database URL with a password, platform tokens and
Slack webhooks come from environment variables that the file only names.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from enum import IntEnum
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from reputation.errors import ConfigError
from reputation.keywords import BrandMatcher, RuleSyntaxError, compile_rule
from reputation.spread.spikes import SpikeParams

DATABASE_URL_ENV = "REPUTATION_DATABASE_URL"
CONFIG_PATH_ENV = "REPUTATION_CONFIG"
DEFAULT_DATABASE_URL = "sqlite:///reputation.db"
_ENV_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_\-]*$")
_PLATFORM = re.compile(r"^[a-z0-9_\-]+$")  # as Mention.platform


class Severity(IntEnum):
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @classmethod
    def parse(cls, value: object) -> Severity:
        if isinstance(value, Severity):
            return value
        if isinstance(value, str) and value.upper() in cls.__members__:
            return cls[value.upper()]
        raise ValueError(f"severity must be one of {', '.join(m.name.lower() for m in cls)}")

    def __str__(self) -> str:
        return self.name.lower()


SeverityField = Annotated[Severity, BeforeValidator(Severity.parse), PlainSerializer(str)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DetractorRule(_Strict):
    enabled: bool = True
    max_compound: float = Field(default=-0.5, ge=-1, le=0, description="negative at or below this")
    min_reach: int = Field(default=5000, ge=0, description="followers of the author plus of the cascade")
    min_cascade: int = Field(default=10, ge=0, description="replies, quotes and reshares")
    require_needs_help: bool = False
    severity: SeverityField = Severity.HIGH
    escalate_factor: float = Field(default=2.0, gt=1, description="re-announce when the cascade grows by this")
    min_predicted: int = Field(default=100, ge=1, description="a predicted final size that alone qualifies")
    predicted_levels: list[int] = Field(
        default_factory=lambda: [100, 1000, 10000], description="re-announce when the prediction crosses one"
    )
    influencer_followers: int = Field(
        default=50000, ge=1, description="an author this big complaining makes it critical, or joining escalates"
    )


class KeywordRules(_Strict):
    include: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)

    @field_validator("include", "exclude")
    @classmethod
    def _parses(cls, rules: list[str]) -> list[str]:
        for index, rule in enumerate(rules):
            try:
                compile_rule(rule)
            except RuleSyntaxError as error:
                raise ValueError(f"rule {index + 1} ({rule[:80]!r}): {error}") from None
        return rules


class KnownIssue(_Strict):
    """An issue the CX lead already tracks: complaints like its examples join it before any discovery."""

    name: str = Field(min_length=1, max_length=200, description="its label, as the team says it")
    examples: list[str] = Field(min_length=1, description="a few phrases or posts that say it")


class BrandIssues(_Strict):
    known: list[KnownIssue] = Field(
        default_factory=list, description="issues matched first; discovery runs on the rest"
    )


class BrandConfig(_Strict):
    name: str = Field(min_length=1)
    aliases: list[str] = Field(default_factory=list)
    keywords: KeywordRules = KeywordRules()
    timezone: str = "UTC"
    lexicon: dict[str, float] = Field(
        default_factory=dict, description="sentiment overrides, word or phrase -> valence on -4..4"
    )
    detractor: DetractorRule | None = Field(default=None, description="this brand's own detractor thresholds")
    issues: BrandIssues = BrandIssues()
    owned_accounts: list[str] = Field(
        default_factory=list, description="the brand's own accounts as platform:handle; their posts are its answers"
    )
    response_sla: dict[str, int] | None = Field(
        default=None, description="minutes per severity before a complaint counts as unanswered (else the rule's)"
    )

    @field_validator("owned_accounts")
    @classmethod
    def _platform_handles(cls, value: list[str]) -> list[str]:
        seen: set[str] = set()
        normalized = []
        for index, account in enumerate(value):
            platform, sep, handle = account.strip().partition(":")
            platform, handle = platform.strip().lower(), handle.strip()
            if not sep or not platform or not handle:
                raise ValueError(f"item {index + 1} ({account!r}): write platform:handle, like x:VoltmartHelp")
            if not _PLATFORM.match(platform):
                raise ValueError(f"item {index + 1} ({account!r}): {platform!r} is not a platform name")
            if handle.startswith("@"):
                raise ValueError(f"item {index + 1} ({account!r}): leave out the @ (x:{handle[1:]})")
            if any(ch.isspace() for ch in handle):
                raise ValueError(f"item {index + 1} ({account!r}): a handle has no spaces")
            key = f"{platform}:{handle.lower()}"
            if key in seen:
                raise ValueError(f"item {index + 1} ({account!r}) appears twice")
            seen.add(key)
            normalized.append(f"{platform}:{handle}")
        return normalized

    @field_validator("response_sla")
    @classmethod
    def _sla_minutes(cls, value: dict[str, int] | None) -> dict[str, int] | None:
        return None if value is None else _severity_minutes("response_sla", value)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use an IANA name like Europe/London)") from None
        return value

    @field_validator("lexicon")
    @classmethod
    def _valence_range(cls, value: dict[str, float]) -> dict[str, float]:
        for word, valence in value.items():
            if not -4 <= valence <= 4:
                raise ValueError(f"valence of {word!r} is {valence}; it must be between -4 and 4")
        return value

    def matcher(self) -> BrandMatcher:
        return BrandMatcher.build(self.name, self.aliases, self.keywords.include, self.keywords.exclude)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class SourceConfig(_Strict):
    name: str
    type: str = Field(description="the connector, as listed by `reputation connectors list`")
    query: str = ""
    brands: list[str] = Field(default_factory=list, description="empty: every brand")
    base_url: str | None = None
    limit: int | None = Field(default=None, gt=0)
    enabled: bool = True
    silent_hours: int | None = Field(
        default=None, gt=0, description="a collection gap when nothing new arrives for this long (unset: never)"
    )
    options: dict[str, Any] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not _SLUG.match(value):
            raise ValueError("use lowercase letters, digits, '-' and '_'")
        return value


class RepeatComplainerRule(_Strict):
    enabled: bool = True
    min_complaints: int = Field(default=3, ge=2)
    window_days: int = Field(default=14, ge=1)
    severity: SeverityField = Severity.MEDIUM


class IssueSpikeRule(_Strict):
    """An issue new or growing far above its own baseline (see `reputation.issues.trends`)."""

    enabled: bool = True
    window_hours: int = Field(default=24, ge=1, le=168)
    baseline_days: int = Field(default=28, ge=1, le=365)
    min_history_days: float = Field(default=7, ge=0, description="warm-up: no issue alerts with less history")
    min_posts: int = Field(default=8, ge=1)
    min_authors: int = Field(default=5, ge=1)
    min_ratio: float = Field(default=2.5, gt=1)
    p_threshold: float = Field(default=1e-3, gt=0, lt=1)
    max_posts_per_author: int = Field(default=3, ge=1, description="posts counted per author in the window")
    severity: SeverityField = Severity.MEDIUM

    @property
    def baseline_windows(self) -> int:
        return max(1, self.baseline_days * 24 // self.window_hours)


# The spike test's own defaults: the rule and a caller of the test without configuration agree.
_SPIKE = SpikeParams()


class VolumeSpikeRule(_Strict):
    """A brand's mention volume far above its hour-of-week baseline."""

    enabled: bool = True
    window_hours: int = Field(default=_SPIKE.window_hours, ge=1, le=168)
    weeks: int = Field(default=_SPIKE.weeks, ge=1, description="weeks of history in the baseline")
    min_history_days: float = Field(
        default=_SPIKE.min_history_days, ge=0, description="warm-up: no spikes before this much history"
    )
    p_threshold: float = Field(default=_SPIKE.p_threshold, gt=0, lt=1)
    min_ratio: float = Field(default=_SPIKE.min_ratio, gt=1)
    min_authors: int = Field(default=_SPIKE.min_authors, ge=0)
    severity: SeverityField = Severity.MEDIUM


class CollectionGapRule(_Strict):
    enabled: bool = True
    failed_runs: int = Field(default=3, ge=1, description="consecutive failed runs of one source")
    severity: SeverityField = Severity.MEDIUM


class UnansweredComplaintRule(_Strict):
    """A complaint (or detractor post) that no owned account answered within the response SLA."""

    enabled: bool = True
    response_sla: dict[str, int] = Field(
        default_factory=lambda: {"critical": 30, "high": 60, "medium": 240, "low": 1440},
        description="minutes per severity; a brand's own response_sla replaces it",
    )
    severity: SeverityField = Severity.MEDIUM
    max_age_hours: int = Field(
        default=24, ge=1, description="older complaints are left to the digest: on a first import none is news"
    )
    min_followers: int = Field(default=0, ge=0, description="only complaints by authors with this many followers")
    require_needs_help: bool = Field(default=False, description="only complaints that ask for help")
    addressed_only: bool = Field(
        default=True, description="only complaints written to the brand: naming or replying to an owned account"
    )

    @field_validator("response_sla")
    @classmethod
    def _sla_minutes(cls, value: dict[str, int]) -> dict[str, int]:
        return _severity_minutes("response_sla", value)


class AlertRules(_Strict):
    detractor: DetractorRule = DetractorRule()
    repeat_complainer: RepeatComplainerRule = RepeatComplainerRule()
    issue_spike: IssueSpikeRule = IssueSpikeRule()
    volume_spike: VolumeSpikeRule = VolumeSpikeRule()
    collection_gap: CollectionGapRule = CollectionGapRule()
    unanswered_complaint: UnansweredComplaintRule = UnansweredComplaintRule()


class Route(_Strict):
    """Where alerts go: an incoming webhook, or a channel through the Web API (exactly-once)."""

    name: str
    webhook_env: str | None = Field(default=None, description="variable holding an incoming-webhook URL")
    token_env: str | None = Field(default=None, description="variable holding a bot token (xoxb-...)")
    channel: str | None = Field(default=None, description="channel id for the Web API, e.g. C0123456789")
    api_base_url: str | None = Field(default=None, description="replace https://slack.com/api/ (tests, proxies)")
    zendesk_url: str | None = Field(
        default=None, description="a Zendesk route: https://SUBDOMAIN.zendesk.com; one ticket per incident"
    )
    email_env: str | None = Field(default=None, description="Zendesk: variable holding the agent's email")
    brands: list[str] = Field(default_factory=list, description="empty: every brand")
    issues: list[str] = Field(
        default_factory=list, description="only alerts about these issues (ids or labels); empty: all alerts"
    )
    min_severity: SeverityField = Severity.LOW

    @field_validator("webhook_env", "token_env", "email_env")
    @classmethod
    def _env_name(cls, value: str | None) -> str | None:
        if value is not None and not _ENV_NAME.match(value):
            raise ValueError("name an environment variable (like SLACK_WEBHOOK_URL), not the secret itself")
        return value

    @field_validator("zendesk_url")
    @classmethod
    def _zendesk_address(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^\s/<>|\"]+/?$", value):
            raise ValueError("use the account's address, like https://voltmart.zendesk.com")
        return value

    @model_validator(mode="after")
    def _one_way(self) -> Route:
        if self.zendesk_url:
            if not self.token_env or not self.email_env or self.webhook_env or self.channel:
                raise ValueError(
                    f"route {self.name!r}: a Zendesk route takes token_env (an API token) and email_env"
                    " (the agent's email), not webhook_env or channel"
                )
            return self
        if self.email_env:
            raise ValueError(f"route {self.name!r}: email_env is for Zendesk routes (set zendesk_url)")
        if bool(self.webhook_env) == bool(self.token_env):
            raise ValueError(f"route {self.name!r}: set either webhook_env or token_env (with channel)")
        if self.token_env and not self.channel:
            raise ValueError(f"route {self.name!r}: token_env needs a channel")
        return self

    @property
    def secret_env(self) -> str:
        return self.webhook_env or self.token_env or ""


class AlertsConfig(_Strict):
    console: bool = Field(default=True, description="print alerts on the terminal as well")
    rules: AlertRules = AlertRules()
    routes: list[Route] = Field(default_factory=lambda: [Route(name="default", webhook_env="SLACK_WEBHOOK_URL")])
    max_attempts: int = Field(default=8, ge=1, description="delivery attempts before an alert is parked")
    sla_minutes: dict[str, int] = Field(
        default_factory=lambda: {"critical": 15, "high": 30, "medium": 120, "low": 480},
        description="minutes an incident of each severity may stay unacknowledged before a follow-up",
    )
    escalation_route: str | None = Field(default=None, description="route that also gets the follow-up")

    @field_validator("sla_minutes")
    @classmethod
    def _known_severities(cls, value: dict[str, int]) -> dict[str, int]:
        for name, minutes in value.items():
            Severity.parse(name)
            if minutes <= 0:
                raise ValueError(f"sla_minutes.{name} must be a positive number of minutes")
        return value

    @model_validator(mode="after")
    def _escalation_route_exists(self) -> AlertsConfig:
        if self.escalation_route and self.escalation_route not in {route.name for route in self.routes}:
            raise ValueError(f"escalation_route {self.escalation_route!r} is not one of the routes")
        return self

    def sla_for(self, severity: Severity) -> int | None:
        return self.sla_minutes.get(str(severity))


def slug(brand: str) -> str:
    """A brand name in file names and page anchors: "Volt Mart" -> "volt-mart"."""
    return "".join(ch if ch.isalnum() else "-" for ch in brand.lower()).strip("-")


class DigestConfig(_Strict):
    output_dir: str = "digests"
    history_days: int = Field(default=7, ge=1, le=90)
    public_url: str | None = Field(
        default=None, description="where output_dir is served; Slack and email link <public_url>/<file name>"
    )
    send: bool = Field(default=False, description="send the Slack summary and email whenever the digest is built")
    day_starts_at: time = Field(
        default=time(0, 0),
        description="the brand's local time at which a digest's day begins: 08:00 makes each day 08:00 to 08:00",
    )

    def day_of(self, moment: datetime, zone: ZoneInfo) -> date:
        """The digest day that holds `moment`: named by the local date on which that day begins."""
        wall = moment.astimezone(zone).replace(tzinfo=None)
        return (wall - timedelta(hours=self.day_starts_at.hour, minutes=self.day_starts_at.minute)).date()

    def day_bounds(self, day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """Where a digest day begins and ends, in UTC (23 or 25 hours across a DST change)."""
        start = datetime.combine(day, self.day_starts_at, tzinfo=zone)
        end = datetime.combine(day + timedelta(days=1), self.day_starts_at, tzinfo=zone)
        return start.astimezone(UTC), end.astimezone(UTC)

    def file_path(self, brand: str | None, day: date) -> Path:
        """Where a day's digest goes: digest-<brand>-<day>.html, or digest-<day>.html for all brands."""
        name = slug(brand) if brand else ""
        return Path(self.output_dir) / f"digest-{name + '-' if name else ''}{day.isoformat()}.html"

    @field_validator("day_starts_at", mode="before")
    @classmethod
    def _written_as_time(cls, value: Any) -> Any:
        # YAML reads an unquoted 8:30 as the number 510 (base 60), which would pass as seconds after midnight.
        if isinstance(value, int | float):
            raise ValueError(f'write the time in quotes, as "08:30" (YAML reads 8:30 unquoted as the number {value})')
        return value

    @field_validator("day_starts_at")
    @classmethod
    def _local_minute(cls, value: time) -> time:
        if value.tzinfo is not None:
            raise ValueError("give a local time such as 08:00, without a UTC offset: each brand's timezone applies")
        return value.replace(second=0, microsecond=0)

    @field_validator("public_url")
    @classmethod
    def _web_address(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^\s<>|\"]+$", value):
            raise ValueError("use an http:// or https:// address without spaces, <, >, | or quotes")
        return value


class IssuesConfig(_Strict):
    """Human corrections to the clustering; they survive re-clustering."""

    embedder: str = Field(default="auto", pattern="^(auto|minilm|hashing)$", description="auto: MiniLM when installed")
    rename: dict[str, str] = Field(default_factory=dict, description="issue id -> label a person chose (locked)")
    merge: dict[str, str] = Field(default_factory=dict, description="issue id -> the issue id it joins")


class Config(_Strict):
    database_url: str | None = Field(default=None, description=f"overridden by ${DATABASE_URL_ENV}")
    brands: list[BrandConfig] = Field(min_length=1)
    sources: list[SourceConfig] = Field(default_factory=list)
    alerts: AlertsConfig = AlertsConfig()
    digest: DigestConfig = DigestConfig()
    issues: IssuesConfig = IssuesConfig()
    # The folder of the file this was loaded from; None for a configuration built in code.
    _base_dir: Path | None = PrivateAttr(default=None)

    @field_validator("database_url")
    @classmethod
    def _no_password(cls, value: str | None) -> str | None:
        if value and _userinfo_password(value):
            raise ValueError(f"holds a password; put the whole URL in ${DATABASE_URL_ENV} instead")
        return value

    @model_validator(mode="after")
    def _references(self) -> Config:
        brands = {brand.name for brand in self.brands}
        _unique("brands", [brand.name for brand in self.brands])
        _unique("sources", [source.name for source in self.sources])
        for index, source in enumerate(self.sources):
            for name in source.brands:
                if name not in brands:
                    raise ValueError(f"sources[{index}] ({source.name}) names unknown brand {name!r}")
        owner: dict[str, str] = {}
        for brand in self.brands:
            for account in brand.owned_accounts:
                first = owner.setdefault(account.lower(), brand.name)
                if first != brand.name:
                    raise ValueError(f"owned account {account!r} belongs to both {first!r} and {brand.name!r}")
        for index, route in enumerate(self.alerts.routes):
            for name in route.brands:
                if name not in brands:
                    raise ValueError(f"alerts.routes[{index}] ({route.name}) names unknown brand {name!r}")
        return self

    def resolved_database_url(self, env: Mapping[str, str] | None = None) -> str:
        """`env` is the caller's settings (the DAGs pass their connections'); the CLI's default is its process's."""
        env = os.environ if env is None else env
        return env.get(DATABASE_URL_ENV) or self.database_url or DEFAULT_DATABASE_URL

    @property
    def base_dir(self) -> Path | None:
        """The folder relative paths in this configuration are read from (the file's own)."""
        return self._base_dir

    def resolve_path(self, value: str) -> Path:
        """A path the configuration names, relative to the file itself rather than the working directory."""
        named = Path(value).expanduser()
        return named if self._base_dir is None else self._base_dir / named

    def anchored(self, folder: Path) -> Config:
        """This configuration with its paths made absolute against `folder`.

        Paths in a file are relative to that file, so that every command reads the
        same database and writes the same digests whatever directory it runs from.
        """
        base = folder.expanduser().absolute()
        copy = self.model_copy(
            update={
                "database_url": _anchored_sqlite(self.database_url, base) if self.database_url else None,
                "digest": self.digest.model_copy(
                    update={"output_dir": str(base / Path(self.digest.output_dir).expanduser())}
                ),
            }
        )
        copy._base_dir = base
        return copy

    def detractor_rule(self, brand: str | None) -> DetractorRule:
        """The brand's own detractor thresholds where it has them, else the global rule."""
        for candidate in self.brands:
            if candidate.name == brand and candidate.detractor is not None:
                return candidate.detractor
        return self.alerts.rules.detractor

    def response_sla_minutes(self, brand: str | None, severity: Severity) -> int | None:
        """Minutes a complaint of this severity may wait for the brand's first public answer."""
        for candidate in self.brands:
            if candidate.name == brand and candidate.response_sla is not None:
                return candidate.response_sla.get(str(severity))
        return self.alerts.rules.unanswered_complaint.response_sla.get(str(severity))

    def with_digest(self, **changes: Any) -> Config:
        """These settings with some `digest` keys changed, for one run (`--send`, the demo's day)."""
        return self.model_copy(update={"digest": self.digest.model_copy(update=changes)})

    def brand(self, name: str) -> BrandConfig:
        for brand in self.brands:
            if brand.name == name:
                return brand
        raise ConfigError(f"unknown brand {name!r}; configured brands: {', '.join(b.name for b in self.brands)}")

    def source(self, name: str) -> SourceConfig:
        for source in self.sources:
            if source.name == name:
                return source
        known = ", ".join(s.name for s in self.sources) or "none"
        raise ConfigError(f"unknown source {name!r}; configured sources: {known}")


def _anchored_sqlite(url: str, folder: Path) -> str:
    """A SQLite URL whose file is relative, made absolute against `folder`; any other URL as it is."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return url  # Store.open says what is wrong with it
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:" or "uri" in parsed.query:
        return url  # not a file, or a file: URI that SQLite resolves itself
    return parsed.set(database=str(folder / Path(database).expanduser())).render_as_string(hide_password=False)


def _severity_minutes(key: str, value: dict[str, int]) -> dict[str, int]:
    for name, minutes in value.items():
        Severity.parse(name)
        if minutes <= 0:
            raise ValueError(f"{key}.{name} must be a positive number of minutes")
    return {str(Severity.parse(name)): minutes for name, minutes in value.items()}


def _unique(key: str, names: list[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ValueError(f"{key}: {name!r} appears twice")
        seen.add(name)


def _location(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _userinfo_password(url: str) -> bool:
    """Whether a URL carries `user:password@`, whatever the password holds (a `/` or `@` included).

    Everything before the last `@` after the scheme is taken as userinfo: a
    password written without percent-encoding still counts, which a URL parser
    would read as part of the path.
    """
    _, separator, rest = url.partition("://")
    if not separator or rest.startswith("/"):  # sqlite:///path has no userinfo
        return False
    userinfo, at, _ = rest.rpartition("@")
    return bool(at) and ":" in userinfo


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice in one mapping (PyYAML keeps the last one silently)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                duplicate = key in seen
                seen.add(key)
            except TypeError:
                continue  # an unhashable key; the base class reports it
            if duplicate:
                mark = key_node.start_mark
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} (line {mark.line + 1}, column {mark.column + 1})", mark
                )
        return super().construct_mapping(node, deep=deep)


def parse_config(data: object, origin: str) -> Config:
    """Validate already-loaded YAML; errors name `origin`, the key and the problem."""
    if not isinstance(data, dict):
        raise ConfigError(
            f"{origin}: the file must be a mapping of keys (brands:, sources:, ...), not {type(data).__name__}"
        )
    try:
        return Config.model_validate(data)
    except RecursionError:
        raise ConfigError(f"{origin}: nested too deeply to read") from None
    except ValidationError as error:
        lines = [f"{origin}: {_location(e['loc'])}: {e['msg'].removeprefix('Value error, ')}" for e in error.errors()]
        raise ConfigError("invalid configuration\n" + "\n".join(lines)) from None


def load_config(path: Path) -> Config:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such configuration file (copy reputation.example.yaml to start)") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read the configuration: {error}") from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader subclass: no arbitrary objects
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML: {error}") from None
    except RecursionError:
        raise ConfigError(f"{path}: not valid YAML: nested too deeply to read") from None
    return parse_config(data, str(path)).anchored(path.parent)


def default_config_path() -> Path:
    return Path(os.environ.get(CONFIG_PATH_ENV, "reputation.yaml"))
