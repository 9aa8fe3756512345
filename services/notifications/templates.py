"""What a reminder says, in English or Chinese, with times in the recipient's time zone."""
from __future__ import annotations

import datetime as dt
import zoneinfo

ENGLISH, CHINESE = "en", "zh-CN"

# kind -> language -> (title, body); fields come from the reminder's context plus ``due``.
TEMPLATES: dict[str, dict[str, tuple[str, str]]] = {
    "follow_up": {
        ENGLISH: ("Follow up with {customer_name}",
                  "Your follow-up with {customer_name} is due at {due}."),
        CHINESE: ("跟进提醒：{customer_name}", "您与 {customer_name} 的跟进时间是 {due}。"),
    },
    "deal_closing": {
        ENGLISH: ("Deal {title} closes in {days} days",
                  "Deal {title} ({amount} {currency}) is expected to close on {close_date}."),
        CHINESE: ("商机 {title} 将在 {days} 天后成交",
                  "商机 {title}（{amount} {currency}）预计于 {close_date} 成交。"),
    },
    "deal_stale": {
        ENGLISH: ("No activity on deal {title} for {days} days",
                  "Deal {title} has had no stage change and no follow-up since {idle_since}."),
        CHINESE: ("商机 {title} 已 {days} 天没有进展",
                  "商机 {title} 自 {idle_since} 起没有阶段变化，也没有跟进记录。"),
    },
    "contract_expiry": {
        ENGLISH: ("Contract {number} expires in {days} days",
                  "Contract {number} ({amount} {currency}) ends on {end_date}."),
        CHINESE: ("合同 {number} 将在 {days} 天后到期",
                  "合同 {number}（{amount} {currency}）于 {end_date} 到期。"),
    },
    "lead_assigned": {
        ENGLISH: ("Lead assigned to you: {name}",
                  "The lead {name} ({company}) was assigned to you at {due}."),
        CHINESE: ("新线索已分配给您：{name}", "线索 {name}（{company}）已于 {due} 分配给您。"),
    },
    "manual": {
        ENGLISH: ("Reminder: {subject}", "You asked to be reminded of {subject} at {due}."),
        CHINESE: ("提醒：{subject}", "您设置的提醒：{subject}，时间 {due}。"),
    },
}

_TIME_FORMATS = {ENGLISH: "%Y-%m-%d %H:%M ({zone})", CHINESE: "%Y年%m月%d日 %H:%M（{zone}）"}


class _Blank(dict):
    def __missing__(self, key):
        return ""


def zone(name: str | None) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def local_time(moment: dt.datetime, language: str, timezone: str | None) -> str:
    tz = zone(timezone)
    pattern = _TIME_FORMATS.get(language, _TIME_FORMATS[ENGLISH]).replace("{zone}", tz.key)
    return moment.astimezone(tz).strftime(pattern)


def render(kind: str, language: str, timezone: str | None, due_at: dt.datetime,
           context: dict) -> tuple[str, str]:
    """``(title, body)`` of a reminder for a recipient; ``{due}`` and ``{idle_since}`` are
    rendered in their time zone."""
    texts = TEMPLATES.get(kind, TEMPLATES["manual"])
    title, body = texts.get(language) or texts[ENGLISH]
    values = _Blank(context)
    if context.get("idle_since"):
        idle_since = dt.datetime.fromisoformat(context["idle_since"])
        values["idle_since"] = local_time(idle_since, language, timezone)
    values["due"] = local_time(due_at, language, timezone)
    return title.format_map(values), body.format_map(values)
