"""Writes the NLU training data under data/nlu/ from the hand-written phrase bank below.

Complaint intents are composed from product-specific faults, openers, verdicts and demands in
several styles (terse, story, review listing, mixed "good part, but ..."); the other intents
are hand-written sentences with light variation (particles, punctuation). Every sentence and
fragment was written for this project from general knowledge of how buyers on Chinese
shopping platforms write; nothing comes from the evaluation sets under ../shared/eval.

    python scripts/generate_nlu_data.py          # rewrites data/nlu/*.yml (fixed seed)
"""
from __future__ import annotations

import argparse
import random
import re
from pathlib import Path
from typing import Dict, Iterable, List

SEED = 20261121

# ---------------------------------------------------------------- quality
# product names buyers use, with faults typical for that kind of product
QUALITY_FAULTS = {
    ("手机", "新手机", "iPhone", "华为Mate", "小米手机", "荣耀手机", "vivo手机", "oppo"): [
        "屏幕有个坏点", "充不进电", "发烫特别厉害", "信号很差老是没网", "动不动就自动重启", "拍照模糊对不上焦",
        "电池掉电特别快", "指纹解锁经常失灵", "扬声器有杂音", "屏幕边上发黄", "开不了机", "卡得要命",
        "听筒声音特别小", "屏幕触摸不灵敏", "后壳有划痕", "充电口接触不良", "WiFi老是断",
    ],
    ("耳机", "蓝牙耳机", "AirPods", "降噪耳机", "SONY耳机", "头戴耳机"): [
        "一边没声音", "有滋滋的电流声", "蓝牙老是断连", "降噪几乎没效果", "充电仓充不进电", "左耳时有时无",
        "音质很差像是破喇叭", "戴着夹耳朵特别疼", "连不上手机", "续航不到一小时", "麦克风对方听不清",
    ],
    ("平板", "iPad", "平板电脑", "学习机"): [
        "反应迟钝点半天没反应", "老是死机", "屏幕漏光", "充电特别慢", "用一会就发烫", "触屏经常断触",
        "黑边很宽显示区域很小", "运行很卡", "系统老是闪退", "屏幕有亮点",
    ],
    ("笔记本", "电脑", "笔记本电脑", "游戏本", "台式机", "联想电脑", "MacBook"): [
        "开机就蓝屏", "风扇声音大得像拖拉机", "键盘有几个键按了没反应", "屏幕闪屏", "触控板失灵", "玩一会游戏就死机",
        "电池根本不耐用", "USB口接触不良", "散热很差烫手", "硬盘有坏道", "配置和宣传的对不上", "屏幕有一条竖线",
    ],
    ("电饭煲", "电饭锅"): [
        "煮出来的饭是夹生的", "内胆涂层一刷就掉", "不保温", "盖子合不紧", "按键没反应", "底部一直漏水",
    ],
    ("吹风机", "电吹风", "戴森吹风机"): [
        "风很小", "噪音特别大", "用几次就不出热风了", "开关接触不良时好时坏", "出风口有股焦味",
    ],
    ("热水器", "电热水器", "燃气热水器"): [
        "根本不加热", "接口处一直漏水", "水温忽冷忽热", "显示屏不亮", "加热特别慢烧一桶水要两个小时", "用了半个月就报故障码",
    ],
    ("洗衣机", "滚筒洗衣机"): [
        "脱水的时候晃得厉害", "不排水", "洗完衣服上全是灰", "门打不开", "运转的时候有异响",
    ],
    ("空气净化器", "加湿器"): ["一开就有很大的塑料味", "噪音大得睡不着", "按键失灵", "底下漏水漏了一地", "开了一天数值都不降"],
    ("电风扇", "扫地机器人", "吸尘器"): ["用了没两天就不转了", "噪音大得睡不着", "吸力越来越小", "遥控器没反应", "充一晚上电只能用十分钟"],
    ("冰箱", "空调"): ["制冷效果很差", "噪音大得睡不着", "显示屏有一半不亮", "一直漏水", "压缩机一直响"],
    ("电水壶", "空气炸锅", "破壁机", "豆浆机"): ["一开就有很大的塑料味", "按键失灵", "用了没两天就不转了", "盖子关不上", "内胆有黑点"],
    ("衣服", "T恤", "卫衣", "羽绒服", "毛衣", "外套", "衬衫", "裤子", "牛仔裤", "裙子", "连衣裙"): [
        "洗一次就起球了", "掉色严重把别的衣服都染了", "洗了一次就缩水", "线头特别多", "面料又薄又透",
        "拉链拉不上", "有一大块污渍", "有股刺鼻的味道", "做工很粗糙", "羽绒一直往外钻", "扣子一碰就掉",
        "和图片颜色差很多", "袖子一长一短",
    ],
    ("鞋子", "运动鞋", "球鞋", "皮鞋", "靴子", "凉鞋"): [
        "穿了一周就开胶了", "鞋底断了", "走路咯吱咯吱响", "两只颜色不一样", "鞋面有褶皱和胶水印", "磨脚磨出血", "鞋垫是歪的",
    ],
    ("包", "双肩包", "行李箱", "钱包"): [
        "拉杆拉不出来", "轮子掉了一个", "背带开线了", "五金件掉漆", "皮面有划痕", "内衬有异味",
    ],
    ("洗发水", "沐浴露", "护发素", "洗面奶"): [
        "用了头皮特别痒", "味道刺鼻和以前买的不一样", "用完头发干得像稻草", "感觉被兑了水特别稀", "用了以后头皮屑更多了",
        "瓶子的压头按不出来",
    ],
    ("面霜", "精华", "面膜", "口红", "粉底液", "水乳", "防晒霜", "香水"): [
        "用了过敏脸上起红疹", "用完脸上爆痘", "膏体有分层", "有股哈喇味", "香味和专柜的完全不一样",
        "颜色和色号对不上", "批号快过期了", "用完脸很干还刺痛",
    ],
    ("水果", "苹果", "橙子", "芒果", "车厘子", "葡萄", "猕猴桃", "草莓", "榴莲"): [
        "烂了好几个", "一点都不甜", "个头比图片小多了", "有的已经发霉了", "很不新鲜像放了很久", "里面是坏的",
        "又酸又涩", "好多都是软的一捏就出水", "有虫眼",
    ],
    ("牛奶", "酸奶", "纯牛奶"): [
        "还有几天就过期了", "好几盒胀袋了", "喝起来有股酸味", "生产日期是半年前的", "喝完肚子不舒服",
    ],
    ("海鲜", "大闸蟹", "虾", "生蚝"): [
        "到的时候都死了", "有股臭味", "个头比说的小很多", "一半是空壳", "解冻后全是冰",
    ],
    ("书", "图书", "这本书", "教材", "绘本", "小说"): [
        "纸张很薄还透字", "印刷模糊看着眼睛疼", "有好几页是空白", "一看就是盗版", "中间缺了十几页", "装订很差一翻就散",
        "错别字一大堆", "内容和简介完全不一样", "有股很重的油墨味", "字特别小",
    ],
    ("房间", "酒店", "宾馆"): [
        "房间有股霉味", "隔音太差隔壁说话听得清清楚楚", "床单上有污渍", "热水时有时无", "空调根本不制冷",
        "设施又老又旧", "卫生间有异味", "和网上的图片差距太大", "早餐种类少还不好吃", "窗户关不严很吵",
    ],
    ("保温杯", "水杯"): ["根本不保温", "盖子漏水", "杯口有毛刺", "有股怪味洗不掉"],
    ("不粘锅", "炒锅"): ["涂层没用几次就掉了", "粘锅特别严重", "锅底不平放不稳", "把手松了"],
    ("玩具", "积木", "乐高"): ["零件少了好几个", "边上有毛刺划手", "塑料味特别重", "拼不上去零件对不齐"],
    ("手机壳", "钢化膜"): ["贴上去全是气泡", "尺寸不对装不上", "没几天就发黄了", "边缘翘起来了"],
    ("充电宝", "数据线", "充电器", "充电头"): ["充几次就坏了", "充电特别慢", "接口松动一碰就断", "用的时候特别烫"],
    ("智能手表", "手环"): ["表带断了", "屏幕一碰就碎", "心率测不准", "老是连不上手机", "走时不准"],
}

# problems that do not depend on the product
GENERAL_QUALITY_PROBLEMS = [
    "质量太差了", "做工粗糙", "用了两天就坏了", "有明显的划痕", "跟描述的完全不一样", "和图片差别太大",
    "怀疑不是正品", "防伪码查不到", "明显是翻新机", "包装是拆过的像二手的", "用了没几次就坏了",
    "功能和宣传的不一样", "说是纯棉的其实是化纤", "标的128G实际只有64G", "说好的防水结果进一点水就坏",
    "质量跟以前买的差远了", "收到就是坏的不能用", "材质很廉价", "有一股难闻的气味", "效果一点都没有",
    "配件少了一个", "做工太差了线头到处都是", "和专柜的对比明显是假的", "是高仿的", "颜色跟图片不一样",
]

SAFETY_PROBLEMS = [
    "充电的时候冒烟了", "插上电就跳闸", "摸外壳有点麻好像漏电", "电池鼓包了", "用着用着有烧焦的味道",
    "突然起火了吓死人", "插头烧黑了", "用的时候炸了一下", "把孩子的手划伤了", "边缘太锋利割到手了",
]

QUALITY_TIMES = [
    "", "", "", "才用了两天", "用了不到一周", "刚拆开", "第一次用", "收到第二天", "买了不到一个月",
    "没用几次", "刚过七天", "昨天刚到", "拿到手就发现", "用了三天", "刚开箱",
]
# the story style needs something that is used over time, not a room or food
NO_STORY_PRODUCTS = ("房间", "酒店", "宾馆")
SAFETY_PRODUCTS = ["充电宝", "充电器", "电水壶", "吹风机", "电热毯", "手机", "热水器", "插线板", "电暖器", "平衡车", "电动车电池", "台灯"]

QUALITY_OPENERS = [
    "", "", "", "在你们家买的", "刚收到的", "上周买的", "这次买的", "你们店的", "网上买的", "给家里老人买的",
    "给孩子买的", "双十一买的", "第二次回购了，这次", "朋友推荐买的",
]

QUALITY_VERDICTS = [
    "", "", "", "什么破质量", "太失望了", "差评", "垃圾", "坑人", "不会再买了", "钱白花了", "就这质量还卖这么贵",
    "严重怀疑是残次品", "对得起这个价吗", "真的无语", "后悔死了", "质检是干什么的", "做工太敷衍了", "建议大家别买",
    "这也能卖出来", "气死了",
]

QUALITY_DEMANDS = [
    "", "", "", "", "怎么处理", "你们看怎么解决", "给个说法", "我要退货", "给我退了吧", "要求退款", "能换一个吗",
    "麻烦处理一下", "你们质检不管吗", "必须给我换新的", "照片已经拍好了", "视频我都录了",
]

# whole review-style sentences about the goods
QUALITY_SENTENCES = [
    "做工太粗糙了，边角都没打磨，一点不像正规厂家出的",
    "用了一个星期屏幕就出现一条线，质量堪忧",
    "这个价位这种质量，真的不值",
    "外观还行，就是用起来特别卡，完全达不到宣传的效果",
    "买回来发现是旧款，包装也很旧，像放了很久的库存",
    "说明书上写的功能一半都没有",
    "跟实体店买的对比了一下，手感差很多，怀疑是假的",
    "味道很冲，放阳台散了三天还有味",
    "图片上看着挺高档，实物就是块塑料",
    "第一次用就漏电，还好没出事",
    "质量真的一般，用了不到一个月就开始出问题",
    "刚装上就有异响，叫师傅来看说是机器本身的问题",
    "拿到手就发现屏幕上有划痕，新机怎么会有划痕",
    "电池续航跟宣传的差太多，宣传十小时实际三小时",
    "衣服穿了一次袖口就脱线了",
    "颜色和图片差别很大，图片是深蓝实物是灰蓝",
    "书的纸张发黄，有的页还有折痕，不像新书",
    "果子一半都是烂的，剩下的也不甜",
    "牛奶打开有一股怪味，不敢给孩子喝",
    "洗了一次就掉色，盆里的水都是蓝的",
    "鞋子的胶水味太重了，穿着头晕",
    "保温杯装热水两个小时就凉了",
    "房间的设施太旧了，电视都打不开，根本不值这个价",
    "键盘用了半个月就有键不回弹",
    "净化器开到最大档也没什么用，数值一点不降",
    "吹风机用了一周就吹不出热风了",
    "不是正品吧？序列号官网查不到",
    "收到的手机是激活过的，还有别人的指纹",
    "面膜敷完脸又红又痒",
    "玩具的零件对不上，根本拼不起来",
    "菜刀用了两次就生锈了",
    "这个床垫睡了一个月中间就塌了",
    "镜片上全是划痕，戴着看不清",
    "扫地机器人老是撞墙，回不了充电座",
    "电视屏幕左下角有一块暗斑",
    "质量和上次买的差太多了，是不是换了厂家",
    "洗衣液兑了水吧，一点泡沫都没有",
    "奶粉罐子打开里面结块了",
    "冰箱冷藏室结冰，冷冻室反而不冷",
    "手表走时不准，一天慢五分钟",
    "包的带子一背就断了，还好没在路上",
    "屏幕一按就有水波纹，明显有问题",
    "蓝牙音箱声音一大就破音",
    "被子洗了一次棉花就结团了",
    "新买的平板充一晚上电都充不满",
    "门锁装上以后指纹识别一直失败",
    "镜头里面有灰，拍出来的照片都有黑点",
    "口红断了，膏体是碎的",
    "热水器漏电，洗澡的时候被电了一下",
    "榴莲打开全是生的，根本没法吃",
]

# ---------------------------------------------------------------- logistics
LOGISTICS_PROBLEMS = [
    "快递太慢了", "物流三天没更新了", "说好的次日达结果三天才到", "等了一个星期还没到", "一直显示运输中",
    "卡在中转站好几天不动了", "跨境的等了快一个月还没到", "物流慢得离谱", "付款三天了还没发货",
    "说好48小时发货现在都没发", "一直显示待发货", "别家早发货了你们怎么还不发", "快递丢了", "物流显示退回了但我没申请退货",
    "包裹找不到了", "显示签收了但是我根本没收到", "被别人签收了", "快递员没打电话就放驿站了",
    "放快递柜也不通知，差点超时", "外箱都压扁了", "收到的时候盒子已经破了", "里面的杯子碎了两个",
    "洗发水漏了一箱子", "鸡蛋碎了一半", "包装太简陋，东西都压坏了", "书角全折了", "快递员态度很差",
    "不送上门，让我自己去站点拿", "快递员打电话不接", "送货的还要我加钱才肯搬上楼", "没经过我同意就放门口了",
    "发错货了", "颜色发错了", "少发了一件", "只收到一个，另一个呢", "配件没发", "单号查不到任何物流信息",
    "物流信息一直是已揽收", "送到别的小区去了", "地址写得清清楚楚还能送错", "派送员说送了其实没送",
    "到了两天都不派送", "物流显示异常件", "快递一直在我们市里转圈", "中间换了三次快递公司还没到",
    "海关清关清了半个月", "快递被退回去了也没人通知我", "快递员把东西扔在楼下", "箱子湿透了里面的东西全泡了",
    "送来的时候外包装被拆过", "一整箱就用个塑料袋装着，全挤坏了", "催了三次物流还是不动",
]

LOGISTICS_OPENERS = [
    "", "", "", "我买的{product}", "{product}", "下单的{product}", "你们这个快递", "这物流", "我的包裹",
    "订的{product}", "这单", "上周下的单", "买了个{product}",
]

LOGISTICS_VERDICTS = [
    "", "", "", "什么物流啊", "太耽误事了", "急着用呢", "还能不能到了", "差评", "气死我了", "这速度也太感人了",
    "下次不在你们家买了", "到底什么时候能到", "能不能上点心", "用的什么破快递", "等得花儿都谢了",
]

LOGISTICS_SENTENCES = [
    "东西还没用，就是快递太慢了，整整一周",
    "物流真是慢，比别家慢了三四天",
    "送货员把东西扔门口就走了，也不打个电话",
    "包装一层薄膜，到手箱子都破了",
    "显示已经签收了，可是我家里一直有人，根本没人送来",
    "付款快一个星期了，一直是待发货状态",
    "快递到了我们县城就不动了，三天了",
    "打开箱子发现少了一件，订单是两件",
    "发来的颜色跟我拍的不一样，发错了",
    "送货太慢，说是三天到，结果第六天才到",
    "外包装一点保护都没有，瓶子都压裂了",
    "快递员说我不在家，其实我一直在家等着",
    "要求送货上门，结果放在小区门口的超市",
    "物流信息显示在派送，可就是不送",
    "国际物流走了二十多天，还卡在海关",
    "快递小哥态度恶劣，还说爱要不要",
    "箱子被雨淋湿了，纸盒都烂了",
    "我填的地址明明是公司，结果给送到我家那边的驿站去了",
    "预售说好月底发货，现在都下个月中了",
    "发货速度太慢了，拍下三天才发",
    "这快递是走路送的吗",
    "包裹显示被退回，我根本没拒收",
    "水果在路上走了五天，到手全坏了，物流太慢",
    "送来的电视外箱有个大洞，里面的屏幕都碎了",
    "打了好几次快递电话都没人接",
    "快递一直显示到了驿站，我去了好几趟都说没有",
    "物流停在同一个地方三天没动",
    "半夜十一点还打电话让我出去拿快递",
    "说好的顺丰，结果发的是最慢的那家",
    "收到的包裹已经被拆开过，里面东西少了",
    "一周了，物流信息还是刚揽收",
    "买的鲜花送到都蔫了，路上太久",
    "冷链的东西没有冰袋，送到都化了",
    "赶着过节送人的，结果节都过了还没到",
    "东西送到隔壁楼去了，找了半天",
]

# ---------------------------------------------------------------- service
SERVICE_PROBLEMS = [
    "客服态度太差了", "客服说话很冲", "问了两句就不耐烦", "客服阴阳怪气的", "找客服一直没人回",
    "留言两天了没人理", "客服电话根本打不通", "机器人客服答非所问", "想转人工一直转不了", "售后推来推去",
    "商家让我找厂家，厂家又让我找商家", "退款申请提交五天了还没处理", "退货寄回去一周了钱还没退",
    "售后处理太慢了", "说好送的赠品没给", "降价了不给保价", "发票一直不给开", "优惠券用不了客服也不管",
    "承诺包安装结果上门还要收费", "安装师傅约了三次都没来", "安装师傅乱收费", "客服答应给补偿结果没下文",
    "客服骗我说能退，结果又不给退", "商家说话不算数", "客服只会复制粘贴", "每次都说帮我反馈，然后就没消息了",
    "客服直接把我拉黑了", "售后一问三不知", "客服让我等，等了三天也没人联系我", "投诉了也没人处理",
    "客服一直让我找快递，快递又让我找商家", "说好二十四小时回复，三天了都没回", "客服态度敷衍，根本不想解决问题",
    "一个问题问了五遍，每次都换个客服从头说", "售后电话永远在忙", "申请售后直接被驳回，理由都不给",
    "客服说话带刺", "售后让我自己承担运费，明明是你们的问题", "价保申请了好几次都被拒",
    "客服回复特别慢，问一句要等半小时",
]

SERVICE_OPENERS = [
    "", "", "", "你们", "你们家", "这家店", "你们店的", "买个{product}，", "{product}的事，", "为了这个{product}，",
]

SERVICE_VERDICTS = [
    "", "", "", "太让人失望了", "什么服务态度", "我要投诉", "这是什么售后", "服务太差了", "再也不来了",
    "真是服了", "一点诚意都没有", "这样的店怎么还开着", "给个说法", "我要给差评",
]

SERVICE_SENTENCES = [
    "东西没问题，就是客服太气人了",
    "手机本身还行，售后真的差劲",
    "问客服什么都说不知道，要你们有什么用",
    "客服说会给我回电话，到现在也没打",
    "下单前说有赠品，收到了啥也没有，问客服说活动结束了",
    "买完第二天就降价了，找客服保价说不符合条件",
    "开发票开了半个月还没开出来",
    "售后说要寄回检测，寄回去一个月了没音讯",
    "你们客服是机器人吗，说的全是套话",
    "退款退了两个星期还没到账，客服就一句在处理",
    "安装的师傅迟到了三个小时，还一脸不耐烦",
    "装空调的师傅额外收了两百块材料费，说好的免费安装呢",
    "找了三次客服，每次都说已经登记，然后就没有然后了",
    "客服直接说这个不归他们管",
    "商家承诺坏了包换，现在又说过了时间",
    "前台服务态度很差，入住办了半个小时",
    "客服回复特别慢，半天回一句",
    "申请退货被拒绝了好几次，也不说为什么",
    "电话打过去永远是排队中",
    "售后太差，出了问题就互相推",
    "客服答应我补发，结果一周了也没发，再问又说不知道",
    "明明是你们的问题，还要我来回跑",
    "平台的售后真是越来越差了",
    "工作人员说话很不客气",
    "跟客服沟通太费劲，驴唇不对马嘴",
    "提交了工单，状态一直是处理中，没人跟进",
    "说好的以旧换新补贴，到现在也没给",
    "订单被莫名其妙取消了，问客服也说不清楚原因",
    "买的是会员价，结算的时候多扣了钱，客服不给退",
    "客服说我的问题要升级处理，升级了一周没下文",
]

# positive or neutral clauses that come before the real complaint in mixed messages
POSITIVE_CLAUSES = {
    "quality": ["快递挺快的", "物流很给力", "客服态度还行", "包装挺好的", "发货很快"],
    "logistics": ["东西还不错", "质量没问题", "东西挺好", "衣服挺好看的", "手机用着还行", "味道不错"],
    "service": ["东西还行", "质量没什么问题", "快递也挺快", "商品本身没问题", "手机没啥毛病", "物流挺快的"],
}
CONNECTORS = ["，但是", "，就是", "，可是", "，不过", "。但", "，但", "，唯一不满意的是"]

# ---------------------------------------------------------------- other intents (whole sentences)
REQUEST_RETURN = [
    "我想退货", "这个我不想要了，能退吗", "买错了，怎么退货", "申请七天无理由退货", "不喜欢，想退掉",
    "拍多了一件，退一件", "东西没问题，就是不想要了", "家里已经有一个了，退了吧", "帮我办一下退货",
    "不是质量问题，就是不想要了", "还没拆封，可以退吗", "吊牌还在，我要退", "退货退款", "我要退款，不要了",
    "冲动消费了，想退", "颜色不太喜欢，想退货", "朋友送了一个，这个退了吧", "退货怎么操作", "怎么申请退款",
    "可以直接退吗", "我想把这个退了", "退了吧，不想要了", "能不能退啊", "想退货，包装都还在", "下错单了，能退吗",
    "东西是好的，但用不上了，退货", "退一下这个订单", "我要申请退货退款", "这件衣服我不要了", "收到了但不想要了，能退不",
    "买贵了，想退了重新买", "没用过，全新的，要退", "我要退这个", "退款吧", "麻烦给我退掉", "想退货，怎么弄",
    "无理由退货", "不合心意，退了", "退货，谢谢", "这个能退不", "我买错型号了想退", "老公不让买，退了吧哈哈",
    "能帮我退了吗", "可以退货吗亲", "申请退货", "想退", "退货流程是啥", "这单我要退", "退回去吧",
]

REQUEST_EXCHANGE = [
    "我想换货", "尺码大了，能换小一码吗", "能换个颜色吗", "鞋子有点挤脚，想换大一码", "换一个尺码",
    "帮我换个黑色的", "这个型号不合适，能换另一个型号吗", "衣服小了，换个L码", "可以换货吗",
    "申请换货", "想换成白色的", "能不能给我换一件", "换个大一号的", "码数不对，换一下", "换货怎么操作",
    "我想换一个新的", "能换吗", "不退，换一个就行", "换个款式可以吗", "能调换吗", "裤子短了，换长一点的",
    "我要换货不退货", "麻烦帮我换个码", "穿着偏大，想换小号", "换个别的颜色", "换个新的给我吧",
    "能给我换台新的吗", "把这个换成38码的", "尺寸不对，想换", "换货要寄回去吗", "我想换成另一款",
    "能换个同价位的吗", "想换货，包装都在", "偏小一码，换一双",
]

REQUEST_REPAIR = [
    "可以保修吗", "我要申请维修", "坏了能修吗", "在哪里可以修", "能上门维修吗", "怎么申请售后维修",
    "帮我报修一下", "屏幕不亮了，能保修吗", "能帮我修一下吗", "空调不制冷了，派个师傅来修吧",
    "保修期内能免费修吗", "寄修怎么弄", "手机摔了一下，能修吗，我自己出钱", "附近有维修点吗",
    "想送修", "要修多久", "维修要钱吗", "能不能修好", "报修", "返厂维修怎么寄", "机器有故障，申请维修",
    "洗衣机坏了，约个师傅上门", "不想退，帮我修好就行", "修一下吧", "有售后维修吗", "电脑进水了，能修吗",
    "热水器坏了，能派人修吗", "我想修，不想换", "这个还在保修期，帮我修", "维修怎么预约",
]

ASK_ORDER_STATUS = [
    "我的快递到哪了", "什么时候发货", "发货了吗", "什么时候能到", "帮我查一下订单", "订单到哪里了",
    "物流到哪了", "今天能到吗", "帮我看下物流", "我的包裹发出了吗", "大概几天能到", "明天能送到吗",
    "查一下我的订单状态", "我的东西发了没", "到哪了", "发了没", "啥时候到啊", "单号多少", "能给个快递单号吗",
    "现在到哪里了", "走的什么快递", "是顺丰发吗", "出库了吗", "我的订单怎么样了", "帮忙查一下物流信息",
    "快递到上海了吗", "从仓库出来了吗", "周末能到吗", "大概什么时候派送", "请问我的货发出了没有", "订单显示已发货了吗",
    "看一下我买的东西到哪了", "能加急吗", "什么时候可以收到", "我的快递派送了吗", "查物流", "查订单",
    "下单的衣服到哪里了", "今天发货吗", "已经出仓了吗", "什么时候从广州发", "还要几天", "到站点了吗",
]

ASK_TICKET_STATUS = [
    "我的售后进度怎么样了", "退款到哪一步了", "我的退款什么时候到账", "换货寄出了吗", "维修好了吗",
    "工单处理得怎么样了", "售后审核通过了吗", "退货你们收到了吗", "我申请的退款处理了吗", "帮我查一下售后单",
    "售后单处理到哪了", "维修进度查一下", "退回去的东西签收了吗", "退款成功了吗", "换的新货什么时候发",
    "我提交的申请有结果了吗", "工单有人处理吗", "退款怎么还没到账", "我的投诉处理得怎么样了", "退款审核要多久",
    "看一下我的售后", "申请退款的那个怎么样了", "补发的发出来了吗", "查工单", "售后进度", "我的维修单呢",
    "钱退了没", "退款进度", "退货审核通过没", "寄回的机器检测完了吗", "上次的售后单还没结果",
]

CHANGE_ADDRESS = [
    "地址填错了，帮我改一下", "能改收货地址吗", "我想修改地址", "收货人电话改一下", "换个收货地址",
    "地址写错了，改到公司", "能送到我公司吗，地址要改", "帮我把地址改成新家的", "改一下收件人", "我要改地址",
    "收货地址能修改吗", "还没发货的话帮我改个地址", "电话号码填错了", "门牌号写错了，改成3单元", "地址能改吗",
    "改地址", "麻烦换个地址发", "我搬家了，地址改一下", "送到另一个地址可以吗", "想把收货地址改成学校",
    "地址少写了楼号", "改一下手机号", "收件人名字写错了", "修改收货信息", "能不能改个地址啊", "小区名字写错了",
    "帮我改到我妈家", "收货地址改成[地址x]",
]

REQUEST_HUMAN = [
    "转人工", "人工客服", "我要找人工", "找你们经理", "我要跟真人说", "机器人听不懂，换人", "叫个活人来",
    "转人工服务", "有没有人工", "人工", "让客服来", "我不要跟机器人说话", "找个真人客服", "给我转接人工",
    "你们主管呢", "找你们负责人", "可以转人工吗", "请帮我转人工", "我要投诉，找人工", "真人在吗",
    "别跟我自动回复了，叫人来", "人工客服在哪", "要人工", "麻烦转一下人工客服", "叫你们领导来", "客服小姐姐在吗，要真人",
]

GREET = [
    "你好", "您好", "在吗", "有人吗", "哈喽", "hi", "hello", "客服你好", "早上好", "亲在吗", "在不在", "你好呀",
    "嗨", "晚上好", "下午好", "喂", "亲", "客服在吗", "您好，在吗", "你好，请问一下", "在么", "有人在吗", "哈喽在吗",
    "你好客服", "请问在吗", "hello在吗", "您好客服",
]

GOODBYE = [
    "再见", "拜拜", "没事了", "就这样吧", "没有其他问题了", "先这样", "好的再见", "byebye", "下次再说", "886",
    "没别的事了", "那先这样吧", "回头再聊", "好了没事了", "没有别的了", "走了", "结束吧", "先不聊了", "晚安",
    "没什么问题了", "就这些了", "没啥事了拜拜", "好嘞，回见", "不打扰了",
]

THANK = [
    "谢谢", "多谢", "麻烦了", "辛苦了", "好的谢谢", "thx", "感谢", "谢谢你", "太感谢了", "谢谢亲", "thanks",
    "非常感谢", "谢啦", "谢了", "好的，辛苦", "感谢帮忙", "多谢多谢", "谢谢客服", "好的麻烦你了", "谢谢啦",
    "嗯谢谢", "OK谢谢", "好滴谢谢", "行，谢谢", "万分感谢",
]

AFFIRM = [
    "是的", "对", "好的", "嗯", "可以", "行", "没问题", "ok", "确认", "就是这个", "对的", "嗯嗯", "是", "好",
    "好吧", "可以的", "行吧", "没错", "对对对", "同意", "就这么办", "好的呢", "嗯呢", "是这个", "要的", "需要",
    "yes", "确定", "好滴", "中", "嗯对", "可以呀",
]

DENY = [
    "不是", "不对", "不要", "算了", "不用了", "没有", "不行", "取消吧", "错了", "不需要", "不是这个", "否",
    "不可以", "不好", "拒绝", "不同意", "no", "不了", "别了", "先不用", "不要了谢谢", "算了吧", "不是的",
    "没有没有", "不用麻烦了", "不想", "不是我", "不对不对",
]

OUT_OF_SCOPE = [
    "今天天气怎么样", "给我讲个笑话", "有优惠券吗", "这个有货吗", "推荐一款手机", "能便宜点吗", "会员怎么开通",
    "你是男的女的", "你们老板是谁", "你多大了", "最近有什么活动", "双十一打几折", "帮我写个作业", "股票会涨吗",
    "这款和那款哪个好", "什么时候补货", "能开发票吗", "你吃饭了吗", "附近有什么好吃的", "你会唱歌吗",
    "积分怎么用", "怎么领优惠券", "这个衣服有别的颜色吗", "这款手机内存多大", "你们招人吗", "能不能包邮",
    "这个适合几岁的孩子", "明天会下雨吗", "帮我订个机票", "你们实体店在哪", "这个怎么用", "说明书在哪下载",
    "我想买个耳机", "有没有更大的尺寸", "满减怎么算", "怎么注册账号", "怎么绑定手机号", "你喜欢我吗",
    "1+1等于几", "我想开店", "哈哈哈", "无聊", "怎么修改密码", "这个是什么材质的", "有赠品吗",
]

INFORM = [
    "是那个蓝牙耳机", "就是上周买的那个电饭煲", "我买的是小米手环", "黑色的那款", "两件", "昨天收到的",
    "上周五买的", "就是这个订单", "是给我妈买的", "型号是X200", "是iPhone15", "买的是42码", "衣服是M码",
    "我叫[姓名x]", "收货地址是[地址x]", "我的手机号[电话x]", "在京东自营买的", "已经拍了照片", "视频发给你了",
    "已经拆封了", "没拆封", "吊牌还在", "用过两次", "是那个白色的", "金额是[金额x]", "是[日期x]签收的",
    "三天前到的", "一共买了三盒", "收到的是蓝色的", "买的洗发水", "是羽绒服", "我买的是戴森吹风机",
    "那个华为平板", "买的SONY耳机", "订的是车厘子", "照片在这", "截图发你了", "这是物流截图",
]

INFORM_ID_TEMPLATES = [
    "订单号{order}", "订单号：{order}", "单号 {order}", "{order}", "我的订单是{order}", "订单{order}",
    "订单编号{order}", "这是订单号{order}", "{order} 这个", "订单号是{order}，手机尾号{phone}", "尾号{phone}",
    "手机尾号是{phone}", "后四位{phone}", "{phone}", "后四位是 {phone}", "电话后四位{phone}", "工单号{ticket}",
    "售后单号：{ticket}", "{ticket}", "订单号发你了 {order}", "单号{order}尾号{phone}", "订单：{order}",
    "我的手机尾号{phone}", "是{order}", "查这个 {order}", "[订单x]", "订单号[订单x]", "[电话x]", "[数字x]",
    "尾号[数字x]", "订单号是[订单x]",
]

POLICY = {
    "return_window": [
        "几天内可以退货", "支持七天无理由吗", "多少天之内能退", "退货期限是多久", "拆封了还能七天无理由吗",
        "过了七天还能退吗", "无理由退货有什么条件", "签收后几天内可以退", "这个支持7天无理由退换吗", "第八天了还能退吗",
        "退货有时间限制吗", "穿过一次还能无理由退吗", "吊牌剪了能退吗", "七天无理由从哪天开始算", "你们支持无理由退换吗",
        "几天无理由", "还在七天内吗能退吗", "无理由退货要求是什么", "激活了还能退吗", "退换货期限多长",
    ],
    "return_shipping": [
        "退货运费谁出", "退货要我自己出运费吗", "运费谁承担", "质量问题退货运费谁付", "退回去的邮费谁出",
        "有运费险吗", "换货的运费谁付", "无理由退货运费怎么算", "寄回来的快递费能报销吗", "退货包邮吗",
        "来回运费谁出", "退货要花运费吗", "邮费你们出吗", "运费能退吗", "退货的快递费谁来付",
    ],
    "refund_time": [
        "退款多久到账", "钱多久能退回来", "退款一般几天到", "退款是原路返回吗", "货到付款的怎么退款",
        "退款要几个工作日", "退到哪里", "多久能收到退款", "退款时效是多少", "退款退到银行卡要多久",
        "审核通过后多久退钱", "退款会退到微信吗", "退款一般要等多久", "钱是原路退吗", "退款几天能到账",
    ],
    "warranty": [
        "保修期多久", "质保多长时间", "保修几年", "这个保修吗", "质保期从哪天算", "保修期过了怎么办",
        "耳机保修多久", "家电质保几年", "衣服有质保吗", "跨境的商品保修吗", "保修范围有哪些", "全国联保吗",
        "手机保一年吗", "质保是从签收开始算吗", "保修需要发票吗",
    ],
    "exchange_time": [
        "换货要多久", "寄回去多久能处理", "换货几天能收到新的", "退换货处理要多长时间", "你们收到退货后多久处理",
        "售后处理要几天", "多久给回复", "工单一般多久处理完", "换货流程要几天", "处理时效多久",
        "寄回后多长时间发新的", "换一个要等几天", "维修要多久能寄回来",
    ],
    "delivery_time": [
        "一般几天能到", "发货要多久", "跨境的要多少天到", "下单后多久发货", "国内几天到", "海外直邮要多久",
        "多久能发货", "几天内发货", "配送时效是多久", "正常几天能收到", "付款后多久发货", "一般多久送到",
        "从国外发过来要多久", "多少小时内发货",
    ],
    "exempt_goods": [
        "哪些商品不能无理由退", "生鲜能退吗", "定制的能退吗", "水果支持七天无理由吗", "什么东西不支持退货",
        "刻字的商品能退吗", "海鲜可以退吗", "哪些不能退", "不支持无理由退货的有哪些", "食品能无理由退吗",
        "内衣能退吗", "鲜花可以退吗", "定做的东西可以退吗",
    ],
    "complaint_channel": [
        "去哪里投诉", "怎么投诉你们", "投诉电话多少", "不满意可以找谁", "我能打12315吗", "平台投诉入口在哪",
        "可以找消协吗", "还能去哪投诉", "怎么找平台介入", "有没有投诉渠道", "投诉找哪个部门",
        "对处理结果不满意怎么办", "去哪里举报",
    ],
}

# ---------------------------------------------------------------- variation helpers
TRAILING_PARTICLES = ["", "", "", "", "啊", "呢", "吧", "了", "哦", "呀", "啦"]
TRAILING_PUNCTUATION = ["", "", "", "。", "！", "!!", "？", "?", "。。。", "！！！", "~", "..."]
EMOJI = ["😡", "😤", "😭", "🙄", "💢", "😓", "👎"]
PRODUCT_MENTIONS = [
    "耳机", "手机", "电饭煲", "吹风机", "衣服", "鞋子", "洗发水", "面霜", "水果", "牛奶", "书", "平板", "电脑",
    "热水器", "空气净化器", "保温杯", "玩具", "行李箱", "车厘子", "羽绒服", "充电宝", "iPhone", "戴森吸尘器",
    "华为平板", "SONY耳机", "奶粉", "猫粮", "床单", "台灯", "键盘",
]


# ---------------------------------------------------------------- composition
def _finish(rng: random.Random, text: str, emoji_rate: float = 0.06) -> str:
    text = text.strip("，。 ")
    if rng.random() < 0.5 and text[-1] not in "啊呢吧了哦呀啦吗么嘛?？!！":
        text += rng.choice(TRAILING_PARTICLES)
    text += rng.choice(TRAILING_PUNCTUATION)
    if rng.random() < emoji_rate:
        text += rng.choice(EMOJI)
    if rng.random() < 0.08:
        text = text.replace("，", " ")
    if rng.random() < 0.05:
        text = text.replace("，", ",")
    return text


def _join(*parts: str) -> str:
    kept = [part.strip("，。 ") for part in parts if part and part.strip("，。 ")]
    return "，".join(kept)


def quality_examples(rng: random.Random, count: int) -> List[str]:
    examples = list(QUALITY_SENTENCES)
    fault_groups = list(QUALITY_FAULTS.items())
    while len(examples) < count:
        style = rng.random()
        names, faults = rng.choice(fault_groups)
        product, fault = rng.choice(names), rng.choice(faults)
        if product in NO_STORY_PRODUCTS and 0.25 <= style < 0.88:
            style = 0.6  # rooms are reviewed, not "used for two days"
        if style < 0.25:  # terse
            text = rng.choice([f"{product}{fault}", f"{fault}", f"{product}，{fault}", f"收到的{product}{fault}"])
        elif style < 0.55:  # story
            text = _join(rng.choice(QUALITY_OPENERS) + product + rng.choice(QUALITY_TIMES), fault, rng.choice(QUALITY_VERDICTS), rng.choice(QUALITY_DEMANDS))
        elif style < 0.72:  # review listing several faults
            second = rng.choice([f for f in faults if f != fault] or GENERAL_QUALITY_PROBLEMS)
            text = _join(fault, second, rng.choice(QUALITY_VERDICTS))
        elif style < 0.82:  # product-independent problem
            text = _join(rng.choice(["", "", product, "这个" + product, "收到的东西"]) + rng.choice(GENERAL_QUALITY_PROBLEMS), rng.choice(QUALITY_VERDICTS), rng.choice(QUALITY_DEMANDS))
        elif style < 0.88:  # safety
            text = _join(rng.choice(SAFETY_PRODUCTS) + rng.choice(SAFETY_PROBLEMS), rng.choice(["太危险了", "吓死了", "还好人没事", "你们必须给个说法", ""]))
        else:  # mixed: something fine, then the fault
            text = rng.choice(POSITIVE_CLAUSES["quality"]) + rng.choice(CONNECTORS) + product + fault
        examples.append(_finish(rng, text))
    return examples


def logistics_examples(rng: random.Random, count: int) -> List[str]:
    examples = list(LOGISTICS_SENTENCES)
    while len(examples) < count:
        style = rng.random()
        problem = rng.choice(LOGISTICS_PROBLEMS)
        product = rng.choice(PRODUCT_MENTIONS)
        if style < 0.3:
            text = problem
        elif style < 0.7:
            opener = rng.choice(LOGISTICS_OPENERS).format(product=product)
            text = _join(opener + ("" if not opener else "，") + problem, rng.choice(LOGISTICS_VERDICTS))
        elif style < 0.85:
            second = rng.choice(LOGISTICS_PROBLEMS)
            text = _join(problem, second if second != problem else "", rng.choice(LOGISTICS_VERDICTS))
        else:
            text = rng.choice(POSITIVE_CLAUSES["logistics"]) + rng.choice(CONNECTORS) + problem
        examples.append(_finish(rng, text))
    return examples


def service_examples(rng: random.Random, count: int) -> List[str]:
    examples = list(SERVICE_SENTENCES)
    while len(examples) < count:
        style = rng.random()
        problem = rng.choice(SERVICE_PROBLEMS)
        product = rng.choice(PRODUCT_MENTIONS)
        if style < 0.3:
            text = problem
        elif style < 0.7:
            opener = rng.choice(SERVICE_OPENERS).format(product=product)
            text = _join(opener + problem, rng.choice(SERVICE_VERDICTS))
        elif style < 0.85:
            second = rng.choice(SERVICE_PROBLEMS)
            text = _join(problem, second if second != problem else "", rng.choice(SERVICE_VERDICTS))
        else:
            text = rng.choice(POSITIVE_CLAUSES["service"]) + rng.choice(CONNECTORS) + problem
        examples.append(_finish(rng, text))
    return examples


def varied(rng: random.Random, sentences: List[str], count: int, product_slot: bool = False) -> List[str]:
    """The sentences as written, then light variations (particles, punctuation) up to `count`."""
    examples = list(sentences)
    attempts = 0
    while len(examples) < count and attempts < count * 20:
        attempts += 1
        examples.append(_finish(rng, rng.choice(sentences), emoji_rate=0.0))
    return examples


def _digits(rng: random.Random, length: int) -> str:
    return str(rng.randint(1, 9)) + "".join(str(rng.randint(0, 9)) for _ in range(length - 1))


def _spaced(rng: random.Random, digits: str) -> str:
    style = rng.random()
    if style < 0.6:
        return digits
    separator = rng.choice([" ", "-", " "])
    return separator.join(digits[i : i + 4] for i in range(0, len(digits), 4))


def inform_examples(rng: random.Random, count: int) -> List[str]:
    examples = list(INFORM)
    while len(examples) < count:
        template = rng.choice(INFORM_ID_TEMPLATES)
        examples.append(template.format(
            order=_spaced(rng, _digits(rng, 16)),
            phone=_digits(rng, 4),
            ticket="AS" + _digits(rng, 12),
        ))
    return examples


# ---------------------------------------------------------------- output
def _unique(examples: Iterable[str]) -> List[str]:
    seen, kept = set(), []
    for example in examples:
        key = re.sub(r"\s+", " ", example).strip()
        if key and key not in seen:
            seen.add(key)
            kept.append(key)
    return kept


def build_intents(seed: int = SEED) -> Dict[str, List[str]]:
    rng = random.Random(seed)
    intents = {
        "complain_quality": quality_examples(rng, 520),
        "complain_logistics": logistics_examples(rng, 420),
        "complain_service": service_examples(rng, 420),
        "request_return": varied(rng, REQUEST_RETURN, 90),
        "request_exchange": varied(rng, REQUEST_EXCHANGE, 70),
        "request_repair": varied(rng, REQUEST_REPAIR, 65),
        "ask_order_status": varied(rng, ASK_ORDER_STATUS, 90),
        "ask_ticket_status": varied(rng, ASK_TICKET_STATUS, 70),
        "change_address": varied(rng, CHANGE_ADDRESS, 60),
        "request_human": varied(rng, REQUEST_HUMAN, 55),
        "inform": inform_examples(rng, 110),
        "greet": varied(rng, GREET, 45),
        "goodbye": varied(rng, GOODBYE, 40),
        "thank": varied(rng, THANK, 45),
        "affirm": varied(rng, AFFIRM, 45),
        "deny": varied(rng, DENY, 45),
        "out_of_scope": varied(rng, OUT_OF_SCOPE, 70),
    }
    for topic, sentences in POLICY.items():
        intents[f"ask_policy/{topic}"] = varied(rng, sentences, max(22, len(sentences)))
    intents = {name: _unique(examples) for name, examples in intents.items()}
    # a text listed under two intents would teach nothing and fails `rasa data validate`
    owners: Dict[str, set] = {}
    for name, examples in intents.items():
        for example in examples:
            owners.setdefault(example, set()).add(name)
    return {name: [e for e in examples if len(owners[e]) == 1] for name, examples in intents.items()}


def _yaml_block(name: str, examples: List[str]) -> str:
    lines = [f"- intent: {name}", "  examples: |"]
    lines += [f"    - {example}" for example in examples]
    return "\n".join(lines)


FILE_OF_INTENT = {
    "complain_": "complaints.yml",
    "request_": "requests.yml",
    "change_address": "requests.yml",
    "ask_policy/": "policy.yml",
    "ask_": "questions.yml",
}


def output_file(intent: str) -> str:
    for prefix, file_name in FILE_OF_INTENT.items():
        if intent.startswith(prefix):
            return file_name
    return "conversation.yml"


def write(out_dir: Path, seed: int = SEED) -> Dict[str, int]:
    intents = build_intents(seed)
    files: Dict[str, List[str]] = {}
    for name, examples in intents.items():
        files.setdefault(output_file(name), []).append(_yaml_block(name, examples))
    out_dir.mkdir(parents=True, exist_ok=True)
    for file_name, blocks in files.items():
        header = f"# Generated by scripts/generate_nlu_data.py (seed {seed}); edit the generator, not this file.\n"
        (out_dir / file_name).write_text(header + 'version: "3.1"\n\nnlu:\n' + "\n\n".join(blocks) + "\n", encoding="utf-8")
    return {name: len(examples) for name, examples in intents.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description="生成 NLU 训练数据（data/nlu/*.yml）")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "data" / "nlu")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    for name, count in write(args.out, args.seed).items():
        print(f"{name:32s} {count}")


if __name__ == "__main__":
    main()
