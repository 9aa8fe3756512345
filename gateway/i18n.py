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
    "duplicate": {
        ENGLISH: ("Duplicate", "Records you may see match this one; see matches."),
        CHINESE: ("疑似重复", "已有您可查看的记录与之匹配，详见 matches。"),
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
    "outcome_unknown": {
        ENGLISH: ("Outcome unknown", "The request may or may not have been applied; retrying "
                                     "it with the same Idempotency-Key is safe."),
        CHINESE: ("结果未知", "该请求可能已执行，也可能未执行；使用相同的 Idempotency-Key 重试是安全的。"),
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
    (r"Must not contain NUL characters\.", "不能包含 NUL 字符。"),
    (r"Must be between the years 1900 and 2999\.", "必须在 1900 年至 2999 年之间。"),
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
    (
        r"Must be one of: (.+); a lead is converted with POST /leads/\{id\}/convert\.",
        "必须是以下之一：{0}；线索转化请使用 POST /leads/{{id}}/convert。",
    ),
    (r"Must be one of: (.+)\.", "必须是以下之一：{0}。"),
    (r"Longer than maximum length (\d+)\.", "长度不能超过 {0}。"),
    (r"Shorter than minimum length (\d+)\.", "长度不能少于 {0}。"),
    (r"Length must be between (\d+) and (\d+)\.", "长度必须在 {0} 到 {1} 之间。"),
    (r"Length must be (\d+)\.", "长度必须为 {0}。"),
    (
        r"Must be greater than or equal to (\S+) and less than or equal to (\S+)\.",
        "必须大于等于 {0} 且小于等于 {1}。",
    ),
    (
        r"Must be greater than (\S+) and less than or equal to (\S+)\.",
        "必须大于 {0} 且小于等于 {1}。",
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
        r"Customers you may see have the same name, email or phone; see matches, or send "
        r"allow_duplicate: true to create it all the same\.",
        "已有您可查看的客户名称、邮箱或电话相同，详见 matches；如仍要创建，请发送 allow_duplicate: true。",
    ),
    (
        r"Leads or customers you may see have the same company, email or phone; see matches, "
        r"or send allow_duplicate: true to create it all the same\.",
        "已有您可查看的线索或客户公司、邮箱或电话相同，详见 matches；如仍要创建，请发送 allow_duplicate: true。",
    ),
    (r"Give at least one of name, email and phone\.", "请至少提供 name、email、phone 之一。"),
    (r"Must be another customer than the one kept\.", "必须是被保留客户以外的另一个客户。"),
    (
        r"Sales users own the customers they create; ask a manager to reassign\.",
        "销售人员创建的客户归其本人所有；如需转交请联系经理。",
    ),
    (r"You may only assign customers to your own team\.", "您只能将客户分配给自己的团队。"),
    # notifications
    (
        r"The URL resolves to a loopback, link-local or private address\.",
        "该 URL 解析到回环、链路本地或私有地址。",
    ),
    (r"The URL's host does not resolve\.", "无法解析该 URL 的主机名。"),
    (r"Only a pending reminder you set by hand can be changed\.", "只能修改您手动设置且尚未发送的提醒。"),
    (r"The reminder is already (\S+)\.", "该提醒已是 {0} 状态。"),
    (r"Reminders and notifications belong to a user; sign in as one\.", "提醒和通知属于用户，请以用户身份登录。"),
    (r"Only admins and API keys manage webhooks\.", "只有管理员和 API 密钥可以管理 Webhook。"),
    (
        r"This API key may not receive (.+): a key hears only events its read scopes cover, "
        r"and never user or reminder events\.",
        "此 API 密钥不能接收 {0}：密钥只能接收其读取权限范围内的事件，且永远不能接收用户或提醒事件。",
    ),
    (
        r"The record was changed by someone else \(version (\d+)\); reload it and apply your change again\.",
        "记录已被他人修改（版本 {0}），请重新加载后再次修改。",
    ),
    # sales
    (r"Your role may read sales records but not change them\.", "您的角色只能查看销售记录，不能修改。"),
    (r"You may only assign leads to your own team\.", "您只能将线索分配给自己的团队。"),
    (r"You may only assign deals to your own team\.", "您只能将商机分配给自己的团队。"),
    (r"You may only give records to members of your own team\.", "您只能将记录分配给本团队的成员。"),
    (r"No active user has this id\.", "没有此 ID 的在职用户。"),
    (
        r"(.+?) The request may or may not have been applied; retrying it with the same "
        r"Idempotency-Key is safe\.",
        "{0} 该请求可能已执行，也可能未执行；使用相同的 Idempotency-Key 重试是安全的。",
    ),
    (r"The broker connection broke during the call\.", "调用期间与消息代理的连接中断。"),
    (
        r"The request expired before the (\S+) service could run it; it was not run\.",
        "请求在 {0} 服务处理之前已过期，未被执行。",
    ),
    (
        r"This Idempotency-Key was already used for another request; use a new key for a "
        r"new request\.",
        "此 Idempotency-Key 已用于另一个请求；新请求请使用新的键。",
    ),
    (
        r"Up to 128 printable ASCII characters without spaces, such as a UUID\.",
        "最多 128 个不含空格的可打印 ASCII 字符，例如 UUID。",
    ),
    (
        r"The lead's owner can no longer be given its customer \(inactive, or in another "
        r"team now\); reassign the lead first\.",
        "该线索的负责人已不能接收其客户（已停用或已调往其他团队）；请先重新分配该线索。",
    ),
    (r"Your role may read leads but not change them\.", "您的角色只能查看线索，不能修改。"),
    (r"Your role may read deals but not change them\.", "您的角色只能查看商机，不能修改。"),
    (r"Your role may read contracts but not change them\.", "您的角色只能查看合同，不能修改。"),
    (r"You may only assign contracts to your own team\.", "您只能将合同分配给自己的团队。"),
    (
        r"Sales users own the contracts they create; ask a manager to reassign\.",
        "销售人员创建的合同归其本人所有；如需转交请联系经理。",
    ),
    (
        r"A lead has no region object: send country, province and city as top-level fields, "
        r"as for a customer\.",
        "线索没有 region 对象：请像客户一样，将 country、province 和 city 作为顶层字段发送。",
    ),
    (r"The total would be larger than ([\d.]+); split it into several deals\.",
     "合计将超过 {0}；请拆分为多个商机。"),
    (
        r"Sales users own the leads they create; ask a manager to reassign\.",
        "销售人员创建的线索归其本人所有；如需转交请联系经理。",
    ),
    (
        r"Sales users own the deals they create; ask a manager to reassign\.",
        "销售人员创建的商机归其本人所有；如需转交请联系经理。",
    ),
    (r"Only an admin may change this\.", "只有管理员可以修改此项。"),
    (r"Only an admin or a manager may change the product catalogue\.", "只有管理员或经理可以修改产品目录。"),
    (
        r"Only an admin or the team's manager may set its assignment rule\.",
        "只有管理员或该团队的经理可以设置其分配规则。",
    ),
    (r"A product with this SKU already exists\.", "已存在使用该 SKU 的产品。"),
    (r"Not a valid SKU: up to 64 letters, digits and \._- characters\.", "SKU 无效：最多 64 个字母、数字或 ._- 字符。"),
    (
        r"Not a valid currency: use a three-letter ISO 4217 code such as CNY\.",
        "币种无效：请使用三个字母的 ISO 4217 代码，例如 CNY。",
    ),
    (
        r"Not a valid stage key: lower-case letters, digits and _, starting with a letter\.",
        "阶段键无效：只能使用小写字母、数字和 _，并以字母开头。",
    ),
    (r"Stage keys must be unique\.", "阶段键不能重复。"),
    (r"The stages won and lost are required\.", "必须包含 won（赢单）和 lost（输单）阶段。"),
    (r"Stages in use by deals cannot be removed: (.+)\.", "仍有商机处于以下阶段，不能删除：{0}。"),
    (r"Unknown stage (\S+); use one of: (.+)\.", "未知的阶段 {0}，可用：{1}。"),
    (r"Required by the region strategy\.", "按地区分配的策略必须提供此项。"),
    (r"No active product has this id\.", "不存在该 id 的有效产品。"),
    (
        r"Required: the product is priced in (\S+), the deal in (\S+)\.",
        "必填：该产品以 {0} 计价，而商机使用 {1}。",
    ),
    (
        r"With lines, the amount is their sum after discount; leave it out\.",
        "有产品明细时，金额为明细折后合计，请不要填写。",
    ),
    (r"No customer you may see has this id\.", "不存在您可查看的该 id 客户。"),
    (r"A deal is won only with an amount greater than zero\.", "商机金额大于零才能赢单。"),
    (r"Required when the stage is lost\.", "阶段为输单时必须填写。"),
    (
        r"The lines and amount of a won or lost deal are frozen; move it back to an open stage first\.",
        "已赢单或输单的商机明细和金额已冻结；请先将其移回进行中的阶段。",
    ),
    (r"The deal is already in stage (\S+)\.", "该商机已处于阶段 {0}。"),
    (r"The lead is already converted\.", "该线索已转化。"),
    (r"A converted lead cannot be changed\.", "已转化的线索不能修改。"),
    (
        r"A disqualified lead cannot be converted; requalify it first\.",
        "不合格的线索不能转化；请先将其恢复为合格。",
    ),
    (
        r"A quote is made from the deal's lines; the deal has none\.",
        "报价单根据商机的产品明细生成；该商机没有明细。",
    ),
    (r"A lost deal cannot be quoted\.", "已输单的商机不能报价。"),
    (r"Must not be in the past\.", "不能早于今天。"),
    (r"The quote expired on (\S+)\.", "该报价单已于 {0} 过期。"),
    (r"Only a draft quote's tax rate and validity can change\.", "只有草稿报价单可以修改税率和有效期。"),
    (r"A (\S+) quote cannot become (\S+)\.", "{0} 状态的报价单不能变为 {1}。"),
    (r"A contract is made from a won deal\.", "合同只能根据已赢单的商机创建。"),
    (r"Must be the deal's customer\.", "必须是该商机的客户。"),
    (r"A terminated contract cannot be changed\.", "已终止的合同不能修改。"),
    (r"Must not be before start_date\.", "不能早于 start_date。"),
    (r"Required when there is no deal_id\.", "未提供 deal_id 时必须填写。"),
    # imports (common.importing, common.import_jobs, the services' imports)
    (
        r"The file is larger than (\S+) MB, the import limit \(CRM_IMPORT_MAX_MB\); split it "
        r"into smaller files\.",
        "文件超过导入上限 {0} MB（CRM_IMPORT_MAX_MB），请拆分成较小的文件。",
    ),
    (
        r"An \.xls file \(Excel 97-2003\) cannot be read; save it as \.xlsx or as CSV\.",
        "无法读取 .xls 文件（Excel 97-2003），请另存为 .xlsx 或 CSV。",
    ),
    (r"The file has no header row: it is empty\.", "文件没有表头行：文件为空。"),
    (
        r"The file holds NUL characters: it is not a CSV text file \(UTF-16 needs its "
        r"byte-order mark\); save it as CSV UTF-8 or XLSX\.",
        "文件包含 NUL 字符，不是 CSV 文本文件（UTF-16 需要字节顺序标记）；请另存为 CSV UTF-8 或 XLSX。",
    ),
    (
        r"The file is not text in UTF-8, UTF-16 \(with its byte-order mark\) or GB18030/GBK; "
        r"save it as CSV UTF-8 or XLSX\.",
        "文件不是 UTF-8、UTF-16（带字节顺序标记）或 GB18030/GBK 编码的文本；请另存为 CSV UTF-8 或 XLSX。",
    ),
    (
        r"The CSV cannot be read at line (\d+) \((.+)\); check the quotes around it\.",
        "CSV 第 {0} 行无法读取（{1}），请检查该行附近的引号。",
    ),
    (
        r"The file is not a readable XLSX workbook \((.*)\); save it again as \.xlsx or as CSV\.",
        "文件不是可读取的 XLSX 工作簿（{0}），请重新另存为 .xlsx 或 CSV。",
    ),
    (
        r"The header names the column (.+) twice \(columns (\d+) and (\d+)\); rename or remove "
        r"one\.",
        "表头中列 {0} 出现了两次（第 {1} 列和第 {2} 列），请重命名或删除其中一列。",
    ),
    (r"(.+) is not a column of the file\.", "{0} 不是文件中的列。"),
    (r"(\S+) is not a field to import; use one of: (.+)\.", "{0} 不是可导入的字段，可用：{1}。"),
    (
        r"The columns (.+) and (.+) both fill (\S+); keep one, or map one elsewhere with "
        r"mapping\.",
        "列 {0} 和 {1} 都对应字段 {2}；请保留其一，或用 mapping 将其中一列映射到别处。",
    ),
    (
        r"No column for (\S+) \((.+) / (.+)\), which every row needs; name a column so, or map "
        r"one to it with mapping\.",
        "缺少每行都必须的字段 {0}（{1} / {2}）的列；请将某列命名为它，或用 mapping 映射到它。",
    ),
    (r'Not a JSON object: write it as \{"key": "value", \.\.\.\}\.',
     '不是 JSON 对象：请写成 {{"key": "value", ...}}。'),
    (
        r"The row has (\d+) cells where the header has (\d+): a delimiter is missing, or a value "
        r"holds one without quotes\.",
        "该行有 {0} 个单元格，而表头有 {1} 列：缺少分隔符，或某个值包含未加引号的分隔符。",
    ),
    (
        r"The import was interrupted (\d+) times \(its service stopped or failed\); the rows not "
        r"imported are failed: import them again from errors\.csv\.",
        "导入被中断了 {0} 次（其服务停止或出错）；未导入的行记为失败，请用 errors.csv 重新导入。",
    ),
    (
        r"The import stopped on an unexpected error \((\S+)\); the rows not imported are failed: "
        r"import them again from errors\.csv\.",
        "导入因意外错误（{0}）而停止；未导入的行记为失败，请用 errors.csv 重新导入。",
    ),
    (
        r"(\d+) of (\d+) rows are invalid, so nothing was imported \(atomic\): fix them "
        r"\(errors\.csv\) and import the file again\.",
        "{1} 行中有 {0} 行无效，因此未导入任何数据（原子导入）：请修正这些行（errors.csv）后重新导入该文件。",
    ),
    (
        r"A dry run: nothing was stored; the counts are what an import would do\.",
        "试运行：未保存任何数据；计数为实际导入时的结果。",
    ),
    (
        r"A dry run: nothing was stored\. (\d+) of (\d+) rows are invalid, so an atomic import "
        r"would import nothing\.",
        "试运行：未保存任何数据。{1} 行中有 {0} 行无效，因此原子导入将不会导入任何数据。",
    ),
    (
        r"(\d+) of (\d+) rows were not imported; errors\.csv holds them, ready to fix and "
        r"import again\.",
        "{1} 行中有 {0} 行未导入；errors.csv 包含这些行，修正后可重新导入。",
    ),
    (r"This service imports (\S+)\.", "该服务导入的是 {0}。"),
    (r"The import has all its rows already\.", "该导入已收到全部行。"),
    (r"The file has (\d+) rows; (\d+) arrived\.", "文件有 {0} 行，只收到 {1} 行。"),
    (
        r"The row matches (\d+) customers you may see; update them one by one, or merge them "
        r"first\.",
        "该行与您可查看的 {0} 个客户匹配；请逐个更新，或先合并它们。",
    ),
    (
        r"The row matches (\d+) leads you may see; update them one by one, or import it with "
        r"on_duplicate create\.",
        "该行与您可查看的 {0} 条线索匹配；请逐条更新，或使用 on_duplicate create 导入。",
    ),
    (
        r"Not a file: send it as a file part of multipart/form-data\.",
        "不是文件：请以 multipart/form-data 的文件部分发送。",
    ),
    (r"This API key does not have the scope (\S+)\.", "此 API 密钥没有 {0} 权限范围。"),
    # the gateway's own
    (r"Not ready: (.+)\.", "未就绪：{0}。"),
    (r"The request body is not valid JSON\.", "请求体不是有效的 JSON。"),
    (r"Invalid username or password\.", "用户名或密码错误。"),
    (r"Authentication required\.", "需要登录。"),
    (r"Invalid or expired token\.", "令牌无效或已过期。"),
    (r"Invalid or expired refresh token\.", "刷新令牌无效或已过期。"),
    (
        r"Missing or wrong X-CSRF-Token header: send the value of the crm_csrf cookie with it\.",
        "缺少或错误的 X-CSRF-Token 请求头：请随请求发送 crm_csrf Cookie 的值。",
    ),
    (
        r"Required, unless the session is in the crm_refresh cookie \(sign in with session: "
        r"cookie\)\.",
        "必填，除非会话保存在 crm_refresh Cookie 中（登录时使用 session: cookie）。",
    ),
    (r"Your role may not do this action\.", "您的角色无权执行此操作。"),
    (r"Too many failed login attempts; try again in (\d+) seconds\.", "登录失败次数过多，请在 {0} 秒后重试。"),
    (r"Too many requests; try again in (\d+) seconds\.", "请求过于频繁，请在 {0} 秒后重试。"),
    (r"Signing in is not possible right now; try again later\.", "暂时无法登录，请稍后再试。"),
    (r"User not found\.", "用户不存在。"),
    (r"Team not found\.", "团队不存在。"),
    (r"Already taken\.", "已被占用。"),
    (r"Unknown time zone\.", "未知的时区。"),
    (r"Required as a body field or an If-Match header\.", "需要在请求体字段或 If-Match 请求头中提供。"),
    (
        r"Not a valid date and time: use ISO 8601, such as 2026-01-31T09:00:00Z\.",
        "不是有效的日期时间：请使用 ISO 8601 格式，例如 2026-01-31T09:00:00Z。",
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
