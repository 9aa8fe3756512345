"""English and Chinese for everything a client reads in an error.

Services raise errors with English messages and know nothing of the caller's language; the
gateway negotiates ``Accept-Language`` and translates problem titles, details and field
messages here. The catalogue is data: one table of problem codes and one table of message
patterns (marshmallow's standard messages, the gateway's own, the services'), so adding a
message is adding a row. A message with no row passes through in English.
"""
from __future__ import annotations

import re

ENGLISH = "en"
CHINESE = "zh-CN"
LANGUAGES = (ENGLISH, CHINESE)

# code -> language -> (title, default detail)
PROBLEMS: dict[str, dict[str, tuple[str, str]]] = {
    "bad_request": {
        ENGLISH: ("Bad request", "The request could not be understood."),
        CHINESE: ("请求无效", "无法理解该请求。"),
    },
    "validation_failed": {
        ENGLISH: ("Validation failed", "Some fields are invalid; see errors."),
        CHINESE: ("校验失败", "部分字段无效，详见 errors。"),
    },
    "unauthorized": {
        ENGLISH: ("Unauthorized", "Valid credentials are required."),
        CHINESE: ("未认证", "需要有效的身份凭证。"),
    },
    "forbidden": {
        ENGLISH: ("Forbidden", "Your role may not do this action."),
        CHINESE: ("禁止访问", "您的角色无权执行此操作。"),
    },
    "not_found": {
        ENGLISH: ("Not found", "The resource does not exist."),
        CHINESE: ("未找到", "该资源不存在。"),
    },
    "method_not_allowed": {
        ENGLISH: ("Method not allowed", "This method is not allowed on this resource."),
        CHINESE: ("方法不允许", "该资源不支持此请求方法。"),
    },
    "conflict": {
        ENGLISH: ("Conflict", "The change conflicts with the current state."),
        CHINESE: ("冲突", "该修改与当前状态冲突。"),
    },
    "precondition_failed": {
        ENGLISH: ("Precondition failed", "A business rule refuses this change."),
        CHINESE: ("前置条件不满足", "业务规则不允许此修改。"),
    },
    "payload_too_large": {
        ENGLISH: ("Payload too large", "The request body is larger than 10 MiB."),
        CHINESE: ("请求体过大", "请求体超过 10 MiB。"),
    },
    "unsupported_media_type": {
        ENGLISH: ("Unsupported media type", "The request body's media type is not supported."),
        CHINESE: ("不支持的媒体类型", "不支持该请求体的媒体类型。"),
    },
    "rate_limited": {
        ENGLISH: ("Too many requests", "Too many attempts; try again later."),
        CHINESE: ("请求过多", "尝试次数过多，请稍后再试。"),
    },
    "internal_error": {
        ENGLISH: ("Internal error", "An unexpected error occurred; it has been logged."),
        CHINESE: ("内部错误", "发生意外错误，已记录日志。"),
    },
    "service_unavailable": {
        ENGLISH: ("Service unavailable", "A service is not available; try again later."),
        CHINESE: ("服务不可用", "某个服务暂不可用，请稍后再试。"),
    },
    "gateway_timeout": {
        ENGLISH: ("Gateway timeout", "A service did not answer in time."),
        CHINESE: ("网关超时", "服务未能及时响应。"),
    },
}

# English message (a regular expression matched in full) -> Chinese template; ``{0}``,
# ``{1}`` ... are the pattern's groups.
MESSAGES: list[tuple[str, str]] = [
    # marshmallow
    (r"Missing data for required field\.", "缺少必填字段。"),
    (r"Unknown field\.", "未知字段。"),
    (r"Field may not be null\.", "字段不能为空值。"),
    (r"Invalid input type\.", "输入类型无效。"),
    (r"Invalid type\.", "类型无效。"),
    (r"Invalid value\.", "值无效。"),
    (r"Not a valid email address\.", "不是有效的电子邮件地址。"),
    (r"Not a valid URL\.", "不是有效的 URL。"),
    (r"Not a valid string\.", "不是有效的字符串。"),
    (r"Not a valid utf-8 string\.", "不是有效的 UTF-8 字符串。"),
    (r"Not a valid integer\.", "不是有效的整数。"),
    (r"Not a valid number\.", "不是有效的数字。"),
    (r"Not a valid UUID\.", "不是有效的 UUID。"),
    (r"Not a valid datetime\.", "不是有效的日期时间。"),
    (r"Not a valid aware datetime\.", "不是有效的带时区日期时间。"),
    (r"Not a valid naive datetime\.", "不是有效的无时区日期时间。"),
    (r"Not a valid date\.", "不是有效的日期。"),
    (r"Not a valid time\.", "不是有效的时间。"),
    (r"Not a valid period of time\.", "不是有效的时间段。"),
    (r"Not a valid boolean\.", "不是有效的布尔值。"),
    (r"Not a valid list\.", "不是有效的列表。"),
    (r"Not a valid tuple\.", "不是有效的元组。"),
    (r"Not a valid mapping type\.", "不是有效的映射类型。"),
    (r"Number too large\.", "数字过大。"),
    (r"Special numeric values \(nan or infinity\) are not permitted\.", "不允许特殊数值（nan 或 infinity）。"),
    (r"String does not match expected pattern\.", "字符串格式不符合要求。"),
    (r"Must be one of: (.+)\.", "必须是以下之一：{0}。"),
    (r"Longer than maximum length (\d+)\.", "长度不能超过 {0}。"),
    (r"Shorter than minimum length (\d+)\.", "长度不能少于 {0}。"),
    (r"Length must be between (\d+) and (\d+)\.", "长度必须在 {0} 到 {1} 之间。"),
    (r"Length must be (\d+)\.", "长度必须为 {0}。"),
    (
        r"Must be greater than or equal to (\S+) and less than or equal to (\S+)\.",
        "必须大于等于 {0} 且小于等于 {1}。",
    ),
    (r"Must be greater than or equal to (\S+)\.", "必须大于等于 {0}。"),
    (r"Must be less than or equal to (\S+)\.", "必须小于等于 {0}。"),
    (r"Must be greater than (\S+)\.", "必须大于 {0}。"),
    (r"Must be less than (\S+)\.", "必须小于 {0}。"),
    # the platform (common/)
    (r"Invalid input\.", "输入无效。"),
    (r"Invalid sort\.", "排序无效。"),
    (r"Unknown sort field (\S+); use one of: (.+)\.", "未知的排序字段 {0}，可用：{1}。"),
    (
        r"The record was changed by someone else at the same time; reload it\.",
        "记录同时被他人修改，请重新加载。",
    ),
    # the services
    (r"Must not be blank\.", "不能为空白。"),
    (r"Must not be after (\S+)\.", "不能晚于 {0}。"),
    (r"No (\S+) with id (\S+)\.", "不存在 id 为 {1} 的 {0}。"),
    (r"Custom field (.+) must be a single value\.", "自定义字段 {0} 必须是单个值。"),
    (r"Custom field (.+) is longer than 1000 characters\.", "自定义字段 {0} 超过 1000 个字符。"),
    (
        r"Not a valid phone number: use digits, spaces, \(\)-\. and an optional \+\.",
        "不是有效的电话号码：请使用数字、空格、()-. 和可选的 +。",
    ),
    (r"Your role may read customers but not change them\.", "您的角色只能查看客户，不能修改。"),
    (
        r"Sales users own the customers they create; ask a manager to reassign\.",
        "销售人员创建的客户归其本人所有；如需转交请联系经理。",
    ),
    (r"You may only assign customers to your own team\.", "您只能将客户分配给自己的团队。"),
    # the gateway's own
    (r"Not ready: (.+)\.", "未就绪：{0}。"),
    (r"The request body is not valid JSON\.", "请求体不是有效的 JSON。"),
    (r"Invalid username or password\.", "用户名或密码错误。"),
    (r"Authentication required\.", "需要登录。"),
    (r"Invalid or expired token\.", "令牌无效或已过期。"),
    (r"Invalid or expired refresh token\.", "刷新令牌无效或已过期。"),
    (r"Your role may not do this action\.", "您的角色无权执行此操作。"),
    (r"Too many failed login attempts; try again in (\d+) seconds\.", "登录失败次数过多，请在 {0} 秒后重试。"),
    (r"User not found\.", "用户不存在。"),
    (r"Team not found\.", "团队不存在。"),
    (r"Already taken\.", "已被占用。"),
    (r"Unknown time zone\.", "未知的时区。"),
    (r"Required as a body field or an If-Match header\.", "需要在请求体字段或 If-Match 请求头中提供。"),
    (
        r"The record was changed by someone else \(version (\d+)\); reload it and try again\.",
        "记录已被他人修改（版本 {0}），请重新加载后再试。",
    ),
    (r"The (\S+) service is not available\.", "{0} 服务不可用。"),
    (r"The (\S+) service did not answer in time\.", "{0} 服务未能及时响应。"),
    (r"The broker is not reachable\.", "消息代理无法连接。"),
]

_COMPILED = [(re.compile(pattern), template) for pattern, template in MESSAGES]


def negotiate(accept_languages) -> str:
    """The best of :data:`LANGUAGES` for werkzeug's parsed ``Accept-Language``.

    Any ``zh*`` tag means Chinese; anything else, or nothing, English.
    """
    for tag, quality in accept_languages:
        if quality <= 0:
            continue
        tag = tag.lower()
        if tag.startswith("zh"):
            return CHINESE
        if tag.startswith("en") or tag == "*":
            return ENGLISH
    return ENGLISH


def problem_text(code: str, language: str) -> tuple[str, str]:
    """``(title, default detail)`` of a problem code."""
    texts = PROBLEMS.get(code) or PROBLEMS["internal_error"]
    return texts[language]


def translate(message: str, language: str) -> str:
    if language == ENGLISH:
        return message
    for pattern, template in _COMPILED:
        match = pattern.fullmatch(message)
        if match:
            return template.format(*match.groups())
    return message


def translate_errors(errors: dict, language: str) -> dict:
    return {field: [translate(m, language) for m in messages] for field, messages in errors.items()}
