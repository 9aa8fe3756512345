// The console's words in English and Chinese, and dates and numbers in the reader's locale
// and time zone. The language is the reader's choice, remembered in this browser; it is
// also sent as Accept-Language, so the API's messages come back in it.
const STRINGS = {
  en: {
    app: "CRM",
    "nav.home": "Home", "nav.customers": "Customers", "nav.main": "Main",
    "language": "Language", "sign_out": "Sign out", "unread_count": "{count} unread notifications",
    "sign_in": "Sign in", "sign_in.title": "Sign in to the CRM",
    "username": "Username", "password": "Password",
    "home.title": "My day", "home.reminders": "My reminders",
    "home.none": "No reminders.", "home.due": "Due",
    "customers.title": "Customers", "customers.search": "Search customers",
    "customers.search_button": "Search", "customers.new": "New customer",
    "customers.none": "No customers match.", "customers.count": "{total} customers",
    "previous": "Previous", "next": "Next", "page": "Page {page} of {pages}",
    "field.name": "Name", "field.type": "Type", "field.industry": "Industry",
    "field.city": "City", "field.tier": "Tier", "field.status": "Status",
    "field.tags": "Tags (comma separated)", "field.tag_list": "Tags", "field.notes": "Notes",
    "field.updated_at": "Updated", "field.owner": "Owner",
    "type.company": "Company", "type.person": "Person",
    "status.prospect": "Prospect", "status.active": "Active", "status.dormant": "Dormant",
    "status.churned": "Churned", "none": "—",
    "create": "Create", "save": "Save", "cancel": "Cancel",
    "customer.new": "New customer", "customer.contacts": "Contacts",
    "customer.no_contacts": "No contacts yet.", "customer.timeline": "Follow-ups",
    "customer.no_activities": "Nothing logged yet.",
    "duplicate.title": "Customers you may see look the same:",
    "duplicate.anyway": "Create it all the same",
    "activity.log": "Log a follow-up", "activity.type": "What happened",
    "activity.content": "Notes", "activity.next": "Next follow-up (optional)",
    "activity.submit": "Log it", "activity.logged": "Logged.",
    "activity.call": "Call", "activity.meeting": "Meeting", "activity.visit": "Visit",
    "activity.email": "Email", "activity.note": "Note",
    "activity.next_at": "Next follow-up {when}",
    "error.network": "The server cannot be reached. Try again.",
    "error.session": "Your session has ended. Sign in again.",
    "loading": "Loading…", "not_found": "This page does not exist.",
    "nav.pipeline": "Pipeline", "pipeline.title": "Pipeline",
    "pipeline.total": "Total", "pipeline.weighted": "Weighted ({probability}%)",
    "pipeline.move": "Move {title}", "pipeline.move_to": "Move to…",
    "pipeline.won_title": "Won: what is the amount?", "pipeline.lost_title": "Lost: why?",
    "pipeline.amount": "Amount ({currency})", "pipeline.reason": "Reason",
    "pipeline.confirm": "Confirm",
    "nav.reports": "Reports", "reports.title": "Reports", "reports.from": "From",
    "reports.to": "To", "reports.period": "Period", "reports.group_by": "Group by",
    "reports.apply": "Show", "reports.export_csv": "Export CSV",
    "reports.export_xlsx": "Export XLSX", "reports.empty": "Nothing to show for these filters.",
    "reports.as_of": "As of {when}",
    "report.funnel": "Funnel", "report.revenue": "Revenue", "report.win-rate": "Win rate",
    "report.sales-cycle": "Sales cycle", "report.leaderboard": "Leaderboard",
    "report.activities": "Activities", "report.dormant-customers": "Dormant customers",
    "report.forecast": "Forecast",
    "period.day": "Day", "period.week": "Week", "period.month": "Month",
    "period.quarter": "Quarter", "period.year": "Year",
    "group.region": "Region", "group.product": "Product", "group.owner": "Owner",
    "group.team": "Team", "group.industry": "Industry", "group.tier": "Tier",
    "report.column.stage_name": "Stage", "report.column.count": "Count",
    "report.column.amount": "Amount", "report.column.weighted_amount": "Weighted amount",
    "report.column.won_amount": "Won amount", "report.column.won_count": "Deals won",
    "report.column.period": "Period", "report.column.win_rate": "Win rate",
    "nav.admin": "Admin", "admin.title": "Administration", "admin.users": "Users",
    "admin.role": "Role", "admin.team": "Team", "admin.last_login": "Last sign-in",
    "admin.active": "Active", "admin.deactivate": "Deactivate {name}",
    "admin.activate": "Activate {name}", "admin.deactivate_short": "Deactivate",
    "admin.activate_short": "Activate", "admin.new_user": "New user",
    "admin.display_name": "Display name", "admin.user_created": "User {name} created.",
    "admin.api_keys": "API keys", "admin.new_key": "New API key", "admin.key_name": "Name",
    "admin.scopes": "Scopes", "admin.key_once":
      "The key of {name}, shown this once: copy it now into the system that will use it.",
    "admin.key_saved": "I have saved it", "admin.revoked": "Revoked {when}",
    "admin.revoke": "Revoke {name}", "admin.revoke_short": "Revoke",
    "role.sales": "Sales", "role.manager": "Manager", "role.analyst": "Analyst",
    "role.admin": "Admin",
    "nav.leads": "Leads", "leads.title": "Leads", "leads.new": "New lead",
    "leads.search": "Search leads", "leads.none": "No leads match.",
    "lead.company": "Company", "lead.phone": "Phone", "lead.email": "Email",
    "lead.source": "Source", "lead.created": "Created", "lead.owner": "Owner",
    "lead.assign": "Assign", "lead.convert": "Convert",
    "lead.convert_hint": "Makes a customer, its primary contact and a deal, in one step.",
    "lead.deal_title": "Deal title", "lead.deal_amount": "Deal amount (optional)",
    "lead.convert_button": "Convert to a customer", "lead.to_customer": "Open its customer",
    "lead.status.new": "New", "lead.status.working": "Working",
    "lead.status.qualified": "Qualified", "lead.status.disqualified": "Disqualified",
    "lead.status.converted": "Converted",
    "customer.edit": "Edit", "customer.edit_title": "Edit {name}",
    "customer.to_trash": "Move to trash", "customer.trash": "Trash",
    "customer.trash_empty": "The trash is empty.", "customer.restore": "Restore",
    "customer.restore_named": "Restore {name}",
    "customer.stale": "Reload to see their change; then make yours again.",
    "customer.reload": "Reload",
    "home.overdue": "Overdue", "home.today": "Due today", "home.later": "Coming up",
    "home.deals": "Open deals by stage", "home.no_deals": "No open deals.",
    "home.won_month": "Won this month", "home.win_rate": "Win rate this month",
    "nav.import": "Import", "import.title": "Import", "import.file": "File (CSV or XLSX)",
    "import.entity": "Records", "import.on_duplicate": "When a record already exists",
    "import.duplicate.skip": "Skip it", "import.duplicate.update": "Update it with the file's columns",
    "import.duplicate.create": "Create another",
    "import.atomic": "All or nothing: store nothing if any row is invalid",
    "import.dry_run": "Check (dry run)", "import.run": "Import for real",
    "import.dry_result": "Dry run", "import.result": "Import",
    "import.status.queued": "queued", "import.status.running": "running",
    "import.status.succeeded": "done", "import.status.failed": "failed",
    "import.count.total": "Rows", "import.count.created": "Created",
    "import.count.updated": "Updated", "import.count.skipped": "Skipped",
    "import.count.failed": "Failed", "import.columns": "Columns read",
    "import.unknown": "Unknown columns", "import.finished": "Finished",
    "import.row": "Row", "import.column": "Column", "import.value": "Value",
    "import.message": "Error", "import.errors_csv": "Download the failed rows (CSV)",
    "customers.export": "Export CSV",
    "table.region": "Table (scrolls sideways)",
    "inbox.title": "Inbox", "inbox.read_all": "Mark all read", "inbox.empty": "Nothing here yet.",
    "inbox.unread": "Unread", "inbox.mark": "Mark read", "inbox.mark_named": "Mark read: {title}",
  },
  "zh-CN": {
    app: "CRM",
    "nav.home": "首页", "nav.customers": "客户", "nav.main": "主导航",
    "language": "语言", "sign_out": "退出登录", "unread_count": "{count} 条未读通知",
    "sign_in": "登录", "sign_in.title": "登录 CRM",
    "username": "用户名", "password": "密码",
    "home.title": "我的一天", "home.reminders": "我的提醒",
    "home.none": "没有提醒。", "home.due": "到期",
    "customers.title": "客户", "customers.search": "搜索客户",
    "customers.search_button": "搜索", "customers.new": "新建客户",
    "customers.none": "没有匹配的客户。", "customers.count": "共 {total} 个客户",
    "previous": "上一页", "next": "下一页", "page": "第 {page} / {pages} 页",
    "field.name": "名称", "field.type": "类型", "field.industry": "行业",
    "field.city": "城市", "field.tier": "等级", "field.status": "状态",
    "field.tags": "标签（逗号分隔）", "field.tag_list": "标签", "field.notes": "备注",
    "field.updated_at": "更新时间", "field.owner": "负责人",
    "type.company": "公司", "type.person": "个人",
    "status.prospect": "潜在", "status.active": "活跃", "status.dormant": "沉睡",
    "status.churned": "流失", "none": "—",
    "create": "创建", "save": "保存", "cancel": "取消",
    "customer.new": "新建客户", "customer.contacts": "联系人",
    "customer.no_contacts": "暂无联系人。", "customer.timeline": "跟进记录",
    "customer.no_activities": "暂无记录。",
    "duplicate.title": "以下您可查看的客户看起来相同：",
    "duplicate.anyway": "仍然创建",
    "activity.log": "记录跟进", "activity.type": "跟进方式",
    "activity.content": "内容", "activity.next": "下次跟进时间（可选）",
    "activity.submit": "记录", "activity.logged": "已记录。",
    "activity.call": "电话", "activity.meeting": "会议", "activity.visit": "拜访",
    "activity.email": "邮件", "activity.note": "备注",
    "activity.next_at": "下次跟进 {when}",
    "error.network": "无法连接服务器，请重试。",
    "error.session": "会话已结束，请重新登录。",
    "loading": "加载中…", "not_found": "页面不存在。",
    "nav.pipeline": "销售漏斗", "pipeline.title": "销售漏斗",
    "pipeline.total": "合计", "pipeline.weighted": "加权（{probability}%）",
    "pipeline.move": "移动 {title}", "pipeline.move_to": "移动到…",
    "pipeline.won_title": "赢单：金额是多少？", "pipeline.lost_title": "输单：原因是什么？",
    "pipeline.amount": "金额（{currency}）", "pipeline.reason": "原因",
    "pipeline.confirm": "确认",
    "nav.reports": "报表", "reports.title": "报表", "reports.from": "开始日期",
    "reports.to": "结束日期", "reports.period": "周期", "reports.group_by": "分组",
    "reports.apply": "查看", "reports.export_csv": "导出 CSV",
    "reports.export_xlsx": "导出 XLSX", "reports.empty": "当前筛选条件下没有数据。",
    "reports.as_of": "截至 {when}",
    "report.funnel": "销售漏斗", "report.revenue": "收入", "report.win-rate": "赢单率",
    "report.sales-cycle": "销售周期", "report.leaderboard": "排行榜",
    "report.activities": "跟进活动", "report.dormant-customers": "沉睡客户",
    "report.forecast": "预测",
    "period.day": "日", "period.week": "周", "period.month": "月",
    "period.quarter": "季度", "period.year": "年",
    "group.region": "地区", "group.product": "产品", "group.owner": "负责人",
    "group.team": "团队", "group.industry": "行业", "group.tier": "等级",
    "report.column.stage_name": "阶段", "report.column.count": "数量",
    "report.column.amount": "金额", "report.column.weighted_amount": "加权金额",
    "report.column.won_amount": "赢单金额", "report.column.won_count": "赢单数",
    "report.column.period": "周期", "report.column.win_rate": "赢单率",
    "nav.admin": "管理", "admin.title": "系统管理", "admin.users": "用户",
    "admin.role": "角色", "admin.team": "团队", "admin.last_login": "最近登录",
    "admin.active": "状态", "admin.deactivate": "停用 {name}",
    "admin.activate": "启用 {name}", "admin.deactivate_short": "停用",
    "admin.activate_short": "启用", "admin.new_user": "新建用户",
    "admin.display_name": "显示名称", "admin.user_created": "已创建用户 {name}。",
    "admin.api_keys": "API 密钥", "admin.new_key": "新建 API 密钥", "admin.key_name": "名称",
    "admin.scopes": "权限范围", "admin.key_once":
      "{name} 的密钥只显示这一次：请立即复制到将使用它的系统中。",
    "admin.key_saved": "我已保存", "admin.revoked": "已于 {when} 吊销",
    "admin.revoke": "吊销 {name}", "admin.revoke_short": "吊销",
    "role.sales": "销售", "role.manager": "经理", "role.analyst": "分析师",
    "role.admin": "管理员",
    "nav.leads": "线索", "leads.title": "线索", "leads.new": "新建线索",
    "leads.search": "搜索线索", "leads.none": "没有匹配的线索。",
    "lead.company": "公司", "lead.phone": "电话", "lead.email": "邮箱",
    "lead.source": "来源", "lead.created": "创建时间", "lead.owner": "负责人",
    "lead.assign": "分配", "lead.convert": "转化",
    "lead.convert_hint": "一步创建客户、其主联系人和一个商机。",
    "lead.deal_title": "商机名称", "lead.deal_amount": "商机金额（可选）",
    "lead.convert_button": "转化为客户", "lead.to_customer": "打开对应客户",
    "lead.status.new": "新建", "lead.status.working": "跟进中",
    "lead.status.qualified": "已确认", "lead.status.disqualified": "无效",
    "lead.status.converted": "已转化",
    "customer.edit": "编辑", "customer.edit_title": "编辑 {name}",
    "customer.to_trash": "移到回收站", "customer.trash": "回收站",
    "customer.trash_empty": "回收站是空的。", "customer.restore": "恢复",
    "customer.restore_named": "恢复 {name}",
    "customer.stale": "请重新加载查看他人的修改，然后再次修改。",
    "customer.reload": "重新加载",
    "home.overdue": "已逾期", "home.today": "今天到期", "home.later": "即将到期",
    "home.deals": "各阶段的进行中商机", "home.no_deals": "没有进行中的商机。",
    "home.won_month": "本月赢单", "home.win_rate": "本月赢单率",
    "nav.import": "导入", "import.title": "导入", "import.file": "文件（CSV 或 XLSX）",
    "import.entity": "记录类型", "import.on_duplicate": "记录已存在时",
    "import.duplicate.skip": "跳过", "import.duplicate.update": "用文件中的列更新",
    "import.duplicate.create": "另建一条",
    "import.atomic": "全部或全不：有任何无效行则不保存",
    "import.dry_run": "检查（试运行）", "import.run": "正式导入",
    "import.dry_result": "试运行", "import.result": "导入",
    "import.status.queued": "排队中", "import.status.running": "进行中",
    "import.status.succeeded": "已完成", "import.status.failed": "失败",
    "import.count.total": "行数", "import.count.created": "新建",
    "import.count.updated": "更新", "import.count.skipped": "跳过",
    "import.count.failed": "失败", "import.columns": "读取的列",
    "import.unknown": "未知的列", "import.finished": "完成时间",
    "import.row": "行", "import.column": "列", "import.value": "值",
    "import.message": "错误", "import.errors_csv": "下载失败的行（CSV）",
    "customers.export": "导出 CSV",
    "table.region": "表格（可横向滚动）",
    "inbox.title": "收件箱", "inbox.read_all": "全部标为已读", "inbox.empty": "暂无通知。",
    "inbox.unread": "未读", "inbox.mark": "标为已读", "inbox.mark_named": "标为已读：{title}",
  },
};
export const LANGUAGES = [["en", "English"], ["zh-CN", "中文"]];
const KEY = "crm.language";
let language = localStorage.getItem(KEY);
if (!STRINGS[language]) language = navigator.language.toLowerCase().startsWith("zh") ? "zh-CN" : "en";
let timeZone;  // the signed-in user's, else the browser's

export function currentLanguage() { return language; }

export function setLanguage(chosen) {
  language = STRINGS[chosen] ? chosen : "en";
  localStorage.setItem(KEY, language);
  document.documentElement.lang = language;
}

export function setTimeZone(zone) {
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone || undefined });
    timeZone = zone || undefined;
  } catch {
    timeZone = undefined;  // a zone this browser does not know: the browser's own
  }
}

export function t(key, params = {}) {
  const text = STRINGS[language][key] ?? STRINGS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(params[name] ?? ""));
}

export function formatDateTime(iso) {
  if (!iso) return t("none");
  return new Intl.DateTimeFormat(language, { dateStyle: "medium", timeStyle: "short", timeZone })
    .format(new Date(iso));
}

export function formatNumber(value) { return new Intl.NumberFormat(language).format(value); }

export function formatMoney(value, currency) {
  return new Intl.NumberFormat(language, { style: "currency", currency: currency || "CNY" })
    .format(Number(value));
}

export function strings(lang) { return STRINGS[lang]; }  // for the tests' completeness check

document.documentElement.lang = language;
