"""English words of narrative questions → the Chinese words reports print for them.

An English question shares no word with a Chinese report, so without this a sentence can only be judged
by its section. With it, "How many policy interpretation articles…" looks for 解读 and "…website visits"
for 访问 — and when no retrieved sentence prints any rendering of such a word, the reports do not say it.

Hand-written (no dictionary package covers this register offline): the vocabulary of the report format's
prose sections (report-format.md: 总体情况's sub-heads, 存在的主要问题及改进情况, 其他需要报告的事项)
and of how agencies describe that work. Only words listed here can make a question unanswerable;
any other word is left to the section and the retrieval ranking.
"""

from __future__ import annotations

from functools import cache

from qa.text import en_tokens

_RAW: dict[str, tuple[str, ...]] = {
    # disclosure work
    "proactive": ("主动公开",), "proactively": ("主动公开",),
    "publish": ("公开", "发布", "公布"), "published": ("公开", "发布", "公布"), "release": ("发布", "公开"),
    "disclose": ("公开",), "disclosed": ("公开",),
    "interpretation": ("解读",), "interpret": ("解读",), "interpreting": ("解读",),
    "article": ("篇", "稿", "文章", "条"), "item": ("条", "件", "项"),
    "policy": ("政策",), "policies": ("政策",),
    "document": ("文件",), "regulation": ("规章", "法规", "条例"), "normative": ("规范性文件",),
    "catalogue": ("目录",), "catalog": ("目录",), "guide": ("指南",), "guideline": ("指南",),
    "press": ("新闻发布会", "发布会"), "conference": ("发布会", "会议"), "briefing": ("发布会", "吹风会"),
    "meeting": ("会议", "会"), "consultation": ("征集", "征求", "咨询"), "opinion": ("意见",),
    "feedback": ("意见", "反馈", "回应"), "comment": ("意见", "评论"),
    "participation": ("参与",), "public": ("公众", "群众", "社会"),
    "response": ("回应", "答复", "回复"), "respond": ("回应", "答复", "回复"), "reply": ("答复", "回复"),
    "concern": ("关切", "关注"), "hotline": ("热线", "12345"), "inquiry": ("咨询", "查询"),
    "open": ("开放", "公开"), "day": ("开放日", "日"),
    # platforms
    "platform": ("平台",), "website": ("网站", "门户"), "portal": ("门户", "网站"), "page": ("网页", "页面", "专栏"),
    "column": ("专栏", "栏目"), "section": ("专栏", "栏目"),
    "visit": ("访问", "浏览", "点击"), "view": ("浏览", "访问", "点击"), "click": ("点击",),
    "media": ("媒体",), "account": ("账号", "帐号", "公众号"),
    "wechat": ("微信",), "weibo": ("微博",), "microblog": ("微博",), "app": ("客户端", "APP", "app"),
    "video": ("视频",), "broadcast": ("直播", "广播"), "live": ("直播",),
    "online": ("网上", "在线", "线上"), "mobile": ("移动", "手机"),
    "language": ("语种", "语言"), "foreign": ("外文", "外语", "国际"), "english": ("英文", "英语"),
    "international": ("国际",), "service": ("服务",), "services": ("服务",),
    "database": ("数据库",), "data": ("数据",), "search": ("检索", "搜索"),
    "closed": ("关停", "注销", "关闭"), "close": ("关停", "注销", "关闭"), "shut": ("关停", "关闭"),
    # organisation and supervision
    "training": ("培训",), "train": ("培训",), "staff": ("人员", "干部"), "personnel": ("人员",),
    "leadership": ("领导",), "leader": ("领导",), "organization": ("组织",), "mechanism": ("机制",),
    "system": ("制度", "系统", "体系"), "standard": ("标准",), "standardization": ("标准化",),
    "supervision": ("监督",), "assessment": ("考核", "评估", "评议"), "evaluation": ("评估", "考核", "评议"),
    "inspection": ("检查", "督查"), "accountability": ("问责", "责任"), "complaint": ("投诉", "举报"),
    "law": ("法", "法律"), "legal": ("法", "法治"), "confidentiality": ("保密",), "security": ("安全", "保密"),
    "privacy": ("隐私", "个人信息"), "review": ("审查", "复议"), "budget": ("预算",), "final": ("决算",),
    # requests and fees
    "application": ("申请",), "applicant": ("申请人",), "request": ("申请", "诉求"),
    "fee": ("费",), "charge": ("收费", "收取", "费"), "charged": ("收费", "收取", "费"), "collect": ("收取", "收费"),
    # quantities reports are asked about, printed or not
    "satisfaction": ("满意",), "satisfied": ("满意",), "rate": ("率",), "average": ("平均",),
    "share": ("占比", "比例", "比重"), "proportion": ("占比", "比例", "比重"), "ratio": ("比例", "比率"),
    "days": ("天数", "工作日", "个工作日"),
    "cost": ("经费", "费用", "成本"), "spend": ("经费", "花费", "支出"), "expenditure": ("支出", "经费"),
    "fund": ("资金", "经费"), "funding": ("资金", "经费"), "letter": ("信函", "来信"),
    "mail": ("信函", "邮寄"), "questionnaire": ("问卷",), "survey": ("调查", "问卷"), "solicitation": ("征集",),
    "subsidy": ("补贴", "补助"), "notice": ("通知", "公告", "公示"), "batch": ("批次",),
    "test": ("检测", "抽检", "检验"), "product": ("产品",), "edible": ("食用",), "agricultural": ("农业", "农产品"),
    "post": ("推文", "发布", "文章"),
    # problems and improvements
    "problem": ("问题", "不足", "差距", "短板"), "shortcoming": ("不足", "问题", "差距", "短板"),
    "weakness": ("不足", "薄弱", "问题"), "gap": ("差距", "不足"), "issue": ("问题",), "deficiency": ("不足",),
    "improvement": ("改进", "提升", "完善", "加强", "整改"), "improve": ("改进", "提升", "完善", "加强"),
    "rectification": ("整改",), "measure": ("措施", "举措"), "plan": ("计划", "下一步", "将"),
    "next": ("下一步", "下一年", "今后"), "future": ("今后", "下一步"),
    "form": ("形式",), "diverse": ("多样", "丰富"), "diversity": ("多样", "丰富"), "rich": ("丰富",),
    "timely": ("及时",), "quality": ("质量",), "depth": ("深度",), "format": ("形式",),
    # other matters
    "suggestion": ("建议",), "proposal": ("提案", "建议"), "deputy": ("代表", "人大"), "npc": ("人大",),
    "cppcc": ("政协",), "handled": ("办理",), "motion": ("议案",),
    "openness": ("公开",), "transparency": ("公开", "透明"),
}


# Things only the prose reports count (no table has a row for them): a question naming more of these than
# table words asks about the prose, whatever table word it also says ("new-media accounts" is not 新收).
_THINGS = ("interpretation press conference briefing meeting hotline platform website portal visit view "
           "click media account wechat weibo microblog app video broadcast language database training")


@cache
def renderings() -> dict[str, tuple[str, ...]]:
    """Glossary keyed by the stems `en_tokens` makes, so question words look up as they are tokenized."""
    return _stemmed(_RAW)


@cache
def _things() -> dict[str, tuple[str, ...]]:
    return _stemmed({w: _RAW[w] for w in _THINGS.split()})


def _stemmed(raw: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    table: dict[str, tuple[str, ...]] = {}
    for word, chinese in raw.items():
        for stem in en_tokens(word):
            table[stem] = tuple(dict.fromkeys((*table.get(stem, ()), *chinese)))
    return table


def chinese_for(word: str) -> tuple[str, ...]:
    """The Chinese renderings of one English word stem; empty when the glossary does not know it."""
    return renderings().get(word, ())


def things_named(text: str) -> set[str]:
    """The prose-only things `text` names: English words, and Chinese renderings of two characters or
    more, each counted once (网站 inside 网站访问量 is one thing, 访问 another)."""
    things = _things()
    english = {w for w in en_tokens(text) if w in things}
    forms = {f for fs in things.values() for f in fs if len(f) > 1 and not f.isascii() and f in text}
    return english | {f for f in forms if not any(f != g and f in g for g in forms)}
