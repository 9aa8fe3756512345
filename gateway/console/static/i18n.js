// The console's words, and dates and numbers in the reader's locale and time zone. The
// English is here; the other languages come from the gettext catalogues the API's messages
// are translated with (gateway/translations: the .po files, extracted from this table). The
// language is the reader's choice, remembered in this browser; it is also sent as
// Accept-Language, so the API's messages come back in it.
import TRANSLATED from "./translations.js";

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
    "pipeline.confirm": "Confirm", "pipeline.more": "and {count} more, changed less recently",
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
    "customers.export": "Export CSV", "customers.any": "Any", "customers.sort": "Order",
    "customers.sort.-updated_at": "Recently changed", "customers.sort.name": "Name A–Z",
    "customers.sort.-created_at": "Newest", "customers.sort.city": "City",
    "table.region": "Table (scrolls sideways)",
    "inbox.title": "Inbox", "inbox.read_all": "Mark all read", "inbox.empty": "Nothing here yet.",
    "inbox.unread": "Unread", "inbox.mark": "Mark read", "inbox.mark_named": "Mark read: {title}",
    "deal.customer": "Customer", "deal.open_customer": "Open the customer",
    "deal.stage": "Stage", "deal.amount": "Amount", "deal.expected_close": "Expected close",
    "deal.lost_reason": "Lost because", "deal.status.open": "open", "deal.status.won": "won",
    "deal.status.lost": "lost", "deal.lines": "Products", "deal.no_lines": "No products yet.",
    "deal.product": "Product", "deal.quantity": "Quantity", "deal.unit_price": "Unit price",
    "deal.discount": "Discount", "deal.discount_percent": "Discount (%)",
    "deal.line_amount": "Amount", "deal.remove": "Remove", "deal.remove_named": "Remove {name}",
    "deal.add_line": "Add the product",
    "deal.frozen": "The products of a won or lost deal are frozen.",
    "deal.quotes": "Quotes", "deal.no_quotes": "No quotes yet.", "deal.number": "Number",
    "deal.valid_until": "Valid until", "deal.total": "Total", "deal.actions": "Actions",
    "deal.tax_percent": "Tax (%)", "deal.new_quote": "Make a quote from the products",
    "deal.contracts": "Contracts", "deal.no_contracts": "No contracts yet.",
    "deal.start_date": "Start", "deal.end_date": "End", "deal.new_contract": "Make the contract",
    "deal.contract_when_won": "A contract is made once the deal is won.",
    "quote.status.draft": "draft", "quote.status.sent": "sent", "quote.status.accepted": "accepted",
    "quote.status.rejected": "rejected", "quote.status.expired": "expired",
    "quote.do.sent": "Send", "quote.do.accepted": "Accept", "quote.do.rejected": "Reject",
    "quote.do.sent_named": "Send {number}", "quote.do.accepted_named": "Accept {number}",
    "quote.do.rejected_named": "Reject {number}",
    "contract.status.active": "active", "contract.status.expired": "expired",
    "contract.status.terminated": "terminated",
    "customer.deals": "Deals", "customer.no_deals": "No deals yet.",
    "customer.new_deal": "Open a deal", "deal.title": "Title",
    "reminder.kind.follow_up": "Follow-up", "reminder.kind.deal_closing": "A deal closes soon",
    "reminder.kind.deal_stale": "A deal without activity",
    "reminder.kind.contract_expiry": "A contract ends soon",
    "reminder.kind.lead_assigned": "A new lead for you", "reminder.kind.manual": "Reminder",
    "merge.title": "Duplicates", "merge.look": "Look for duplicates of this customer",
    "merge.none": "No other customer you may see looks the same.",
    "merge.matched": "same {fields}", "merge.field.name": "name", "merge.field.email": "email",
    "merge.field.phone": "phone", "merge.into": "Merge into this customer",
    "merge.into_named": "Merge {other} into this customer",
    "merge.confirm": "Yes: merge {other} into {kept}, {other} goes to the trash",
    "history.title": "Field history", "history.none": "No changes recorded.",
    "history.entity.customer": "Customer", "history.entity.contact": "Contact",
    "history.entity.activity": "Follow-up", "history.action.created": "created",
    "history.action.updated": "changed", "history.action.deleted": "moved to the trash",
    "history.action.restored": "restored", "history.action.merged": "merged",
    "role.system": "System", "role.integration": "Integration",
    "admin.teams": "Teams", "admin.manager": "Manager", "admin.team_name": "Team name",
    "admin.new_team": "Create the team", "admin.stages": "Pipeline stages",
    "admin.stage_key": "Key", "admin.stage_name": "Name",
    "admin.stage_probability": "Win probability (%)", "admin.stage_name_of": "Name of {key}",
    "admin.stage_probability_of": "Win probability of {key} (%)",
    "admin.stage_up": "Move {key} up", "admin.stage_down": "Move {key} down",
    "admin.stage_remove": "Remove {key}", "admin.stages_save": "Save the stages",
    "admin.stages_saved": "Stages saved.", "admin.stage_add": "Add the stage",
    "webhooks.title": "Webhooks", "webhooks.none": "No webhooks.",
    "webhooks.new": "New webhook", "webhooks.url": "URL", "webhooks.events": "Event types",
    "webhooks.active": "active", "webhooks.paused": "paused", "webhooks.pause": "Pause",
    "webhooks.resume": "Resume", "webhooks.pause_named": "Pause {url}",
    "webhooks.resume_named": "Resume {url}",
    "webhooks.secret_once":
      "The signing secret of {url}, shown this once: copy it now into the receiving system.",
    "webhooks.log": "Delivery log", "webhooks.log_of": "Delivery log of {url}",
    "webhooks.no_deliveries": "Nothing delivered yet.", "webhooks.event": "Event",
    "webhooks.attempts": "Attempts", "webhooks.answer": "Answer", "webhooks.when": "When",
    "webhooks.replayed": "a replay", "webhooks.replay": "Replay",
    "webhooks.replay_named": "Replay {event}", "webhooks.status.pending": "pending",
    "webhooks.status.delivered": "delivered", "webhooks.status.failed": "failed",
    "audit.title": "Audit trail", "audit.kind": "Actions", "audit.all": "All",
    "audit.none": "Nothing recorded.", "audit.when": "When", "audit.action": "Action",
    "audit.who": "Who", "audit.target": "On", "audit.address": "Address",
    "audit.target.user": "a user", "audit.target.team": "a team", "audit.target.api_key": "an API key",
    "import.mapping": "Columns to map",
    "import.mapping_hint": "Say which field each column fills, or leave it out; then check again.",
    "import.leave_out": "Leave it out",
    "rules.title": "Lead assignment", "rules.strategy": "New leads go to",
    "rules.hint": "How each team's new leads are given to its members.",
    "rules.round_robin": "each member in turn", "rules.least_open": "the member with the fewest open leads",
    "rules.region": "the member for the lead's region",
    "rules.region_label": "Region", "rules.member": "Member",
    "rules.remove_region": "Remove {region}", "rules.add_region": "Add a region",
    "rules.saved": "Rule saved.", "rules.save": "Save the rule of {team}",
    "rules.choose_member": "Choose a member", "admin.change_named": "Edit role and team of {name}",
  },
};
Object.assign(STRINGS, TRANSLATED);
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
