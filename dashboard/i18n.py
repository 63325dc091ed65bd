"""The pages' own words in English and Chinese; the viewer's browser chooses, a link switches.

Names that come from the factory file (sites, lines, stations, products, options, checks,
components, reasons) carry their own translations there (factory.views.names_for).
"""

from __future__ import annotations

import flask

LANGUAGES = ("en", "zh")

TEXTS = {
    "en": {
        "locale": "en",
        "switch": "中文",
        "switch_to": "zh",
        "at": "Now at: {}",
        "next": "Next: {}",
        "ordered": "Order received, waiting to start",
        "in_production": "Being built",
        "in_rework": "Back for a re-check after a test",
        "completed": "Built, tested and loaded",
        "shipped": "On its way to you",
        "scrapped": "Did not pass its final tests",
        "finish": "Ready around {expected}, by {latest} at the latest",
        "finish_one": "Ready around {expected}",
        "finished": "Finished {expected}",
        "ship": "Leaves the plant about {expected}",
        "shipped_with": "Shipped with {carrier} · delivery expected {date}",
        "ahead": "{n} orders ahead of yours",
        "ahead_one": "1 order ahead of yours",
        "reason_down": "{station} down since {time}{why}",
        "reason_planned_stop": "Line on a planned stop: {stop}",
        "reason_no_shift": "Line resumes with the next shift",
        "reason_rework": "Being repaired after a test; it will be tested again",
        "moved_later": "{by} later than shown before: {why}",
        "moved_earlier": "{by} earlier than shown before: {why}",
        "pace_slower": "the line has been slower than the units before yours",
        "pace_faster": "the line has been faster than the units before yours",
        "live": "Live",
        "connecting": "Connecting…",
        "reconnecting": "Reconnecting…",
        "unit_code": "Unit code",
        "order": "Order",
        "report": "Test report",
        "report_note": "Every measurement of your unit's end-of-line tests, against its limits.",
        "tests_none": "No tests yet.",
        "tests_done": "{n} tests so far, {passed} passed.",
        "pdf": "Download PDF",
        "csv": "Download CSV",
        "certificate": "Birth certificate",
        "parts": "Parts in your unit",
        "parts_none": "Listed here as the line fits them.",
        "part_line": "{name}: {supplier} · batch {batch} · serial {serial}",
        "certificate_note": "Signed by the plant once your unit is finished: its parts, journey and every measurement.",
        "verify": "Verify a certificate",
        "share": "Open on another device",
        "qr_alt": "QR code of this tracking link",
        "feedback": "How are we doing?",
        "rating": "Rating",
        "comment": "Anything you would like to tell us",
        "send": "Send",
        "thanks": "Thank you",
        "thanks_note": "Your feedback reached the factory.",
        "not_found": "Page not found",
        "not_found_note": "This link does not lead to an order. Check that you copied the whole link.",
    },
    "zh": {
        "locale": "zh-CN",
        "switch": "English",
        "switch_to": "en",
        "at": "当前工位：{}",
        "next": "下一工位：{}",
        "ordered": "订单已接收，等待开工",
        "in_production": "生产中",
        "in_rework": "检测后返修复检中",
        "completed": "已完成生产、检测和装车",
        "shipped": "已发货，正在送往您处",
        "scrapped": "未通过最终检测",
        "finish": "预计 {expected} 完成，最晚 {latest}",
        "finish_one": "预计 {expected} 完成",
        "finished": "已于 {expected} 完成",
        "ship": "预计 {expected} 出厂",
        "shipped_with": "已由{carrier}承运 · 预计 {date} 送达",
        "ahead": "您前面还有 {n} 个订单",
        "ahead_one": "您前面还有 1 个订单",
        "reason_down": "{station}自 {time} 起停机{why}",
        "reason_planned_stop": "产线计划停机：{stop}",
        "reason_no_shift": "产线将在下一班次恢复生产",
        "reason_rework": "检测未通过，正在返修，修后将重新检测",
        "moved_later": "比先前显示的晚 {by}：{why}",
        "moved_earlier": "比先前显示的早 {by}：{why}",
        "pace_slower": "产线近来比您之前的产品做得慢",
        "pace_faster": "产线近来比您之前的产品做得快",
        "live": "实时",
        "connecting": "连接中…",
        "reconnecting": "重新连接中…",
        "unit_code": "产品编码",
        "order": "订单号",
        "report": "检测报告",
        "report_note": "您的产品下线检测的全部测量值及其限值。",
        "tests_none": "尚未检测。",
        "tests_done": "已完成 {n} 项检测，{passed} 项通过。",
        "pdf": "下载 PDF",
        "csv": "下载 CSV",
        "certificate": "产品出生证明",
        "parts": "您的产品所用部件",
        "parts_none": "产线装配后将在此列出。",
        "part_line": "{name}：{supplier} · 批次 {batch} · 序列号 {serial}",
        "certificate_note": "产品完工后由工厂签名：关键部件、生产历程及全部测量值。",
        "verify": "验证证明",
        "share": "在其他设备上打开",
        "qr_alt": "本跟踪链接的二维码",
        "feedback": "您的评价",
        "rating": "评分",
        "comment": "想对我们说的话",
        "send": "提交",
        "thanks": "谢谢",
        "thanks_note": "您的反馈已送达工厂。",
        "not_found": "页面不存在",
        "not_found_note": "此链接没有对应的订单，请检查链接是否完整。",
    },
}

# The floor screen's words (wall screens and managers read English here; the names are the plant's).
FLOOR_TEXTS = {
    "live": "Live",
    "connecting": "Connecting…",
    "reconnecting": "Reconnecting…",
    "stopped": "Stream stopped",
    "connecting_long": "Connecting to the server…",
    "lost": "Connection lost — reconnecting… Showing data from {age} ago.",
    "no_data": "No data from the line for {age} — greyed-out panels are not live.",
    "updated": "updated {age} ago",
    "quiet": "planned stop · last event {age} ago",
    "computed": "computed {age} ago",
    "since": "Since {time}",
    "no_alarms": "No active alarms",
    "acknowledge": "Acknowledge",
    "unacknowledged": "unacknowledged",
    "shelved": "{n} shelved",
    "plan": "plan",
    "actual": "actual",
    "health": "Server:",
}


def language(requested: str | None = None) -> str:
    """Return the language to show: the one asked for in the URL, else the browser's best match."""
    if requested in LANGUAGES:
        return requested
    if flask.has_request_context():
        return flask.request.accept_languages.best_match(LANGUAGES, default="en") or "en"
    return "en"


def texts(lang: str) -> dict[str, str]:
    """Return the wording of one language."""
    return TEXTS[lang]
