-- Applied by every node at start-up, under an advisory lock, so it must be
-- idempotent: CREATE ... IF NOT EXISTS and seed rows ON CONFLICT DO NOTHING.
-- The tables follow the seed project's (hmdp) names and columns, trimmed to
-- what this project uses.

CREATE TABLE IF NOT EXISTS tb_user (
    id          bigserial PRIMARY KEY,
    phone       varchar(11)  NOT NULL UNIQUE,
    password    varchar(128) NOT NULL DEFAULT '',
    nick_name   varchar(32)  NOT NULL DEFAULT '',
    icon        varchar(255) NOT NULL DEFAULT '',
    create_time timestamptz  NOT NULL DEFAULT now(),
    update_time timestamptz  NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS tb_shop (
    id         bigint PRIMARY KEY,
    name       varchar(128) NOT NULL,
    type_id    bigint       NOT NULL,
    area       varchar(128) NOT NULL DEFAULT '',
    address    varchar(255) NOT NULL,
    avg_price  bigint       NOT NULL DEFAULT 0,
    score      int          NOT NULL DEFAULT 0,
    open_hours varchar(32)  NOT NULL DEFAULT ''
);

CREATE TABLE IF NOT EXISTS tb_blog (
    id          bigint PRIMARY KEY,
    shop_id     bigint NOT NULL REFERENCES tb_shop (id),
    user_id     bigint NOT NULL REFERENCES tb_user (id),
    title       varchar(255) NOT NULL,
    content     text   NOT NULL,
    liked       int    NOT NULL DEFAULT 0,
    comments    int    NOT NULL DEFAULT 0,
    create_time timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS tb_blog_liked ON tb_blog (liked DESC, id);

-- Which sessions each user has, for logout-all and the per-user cap.  The
-- session itself (who, until when) lives only in the session store; this is
-- the durable list of its ids (node/tokens.py: session_id, 32 hex digits
-- of the token's SHA-256, never the token), so
-- the store keeps one key per session and no per-user index.
CREATE TABLE IF NOT EXISTS tb_session (
    id          bigserial PRIMARY KEY,
    sid         varchar(64) NOT NULL UNIQUE,
    user_id     bigint      NOT NULL REFERENCES tb_user (id) ON DELETE CASCADE,
    create_time timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS tb_session_user ON tb_session (user_id, id);

-- The simulated SMS gateway: every code "sent" is a row here.  It stands
-- for the user's phone, outside the cluster, so every node reads the same.
CREATE TABLE IF NOT EXISTS sms_outbox (
    id      bigserial PRIMARY KEY,
    phone   varchar(11) NOT NULL,
    code    varchar(6)  NOT NULL,
    body    text        NOT NULL,
    node    varchar(64) NOT NULL,
    sent_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS sms_outbox_phone ON sms_outbox (phone, id DESC);

-- The course's read API (docs/frontend.md): what its pages show besides the
-- login.  Columns added to a table made before them come as ALTER ... ADD
-- COLUMN IF NOT EXISTS, so an existing database gets them too.
CREATE TABLE IF NOT EXISTS tb_shop_type (
    id   bigint PRIMARY KEY,
    name varchar(32)  NOT NULL,
    -- Under the course's /imgs/: its index.html shows '/imgs/' + icon.
    icon varchar(255) NOT NULL DEFAULT '',
    sort int          NOT NULL DEFAULT 0
);

ALTER TABLE tb_shop ADD COLUMN IF NOT EXISTS images   varchar(1024)    NOT NULL DEFAULT '';
ALTER TABLE tb_shop ADD COLUMN IF NOT EXISTS x        double precision NOT NULL DEFAULT 0; -- longitude
ALTER TABLE tb_shop ADD COLUMN IF NOT EXISTS y        double precision NOT NULL DEFAULT 0; -- latitude
ALTER TABLE tb_shop ADD COLUMN IF NOT EXISTS sold     int              NOT NULL DEFAULT 0;
ALTER TABLE tb_shop ADD COLUMN IF NOT EXISTS comments int              NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS tb_shop_type_id ON tb_shop (type_id, id);

-- Amounts in cents (分), as the course keeps them.  type 1 is a flash-sale
-- voucher, with its stock and its window in tb_seckill_voucher.
CREATE TABLE IF NOT EXISTS tb_voucher (
    id           bigint PRIMARY KEY,
    shop_id      bigint        NOT NULL REFERENCES tb_shop (id),
    title        varchar(255)  NOT NULL,
    sub_title    varchar(255)  NOT NULL DEFAULT '',
    rules        varchar(1024) NOT NULL DEFAULT '',
    pay_value    bigint        NOT NULL,
    actual_value bigint        NOT NULL,
    type         smallint      NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS tb_voucher_shop ON tb_voucher (shop_id, id);

CREATE TABLE IF NOT EXISTS tb_seckill_voucher (
    voucher_id bigint PRIMARY KEY REFERENCES tb_voucher (id),
    stock      int         NOT NULL,
    begin_time timestamptz NOT NULL,
    end_time   timestamptz NOT NULL
);

ALTER TABLE tb_blog ADD COLUMN IF NOT EXISTS images varchar(2048) NOT NULL DEFAULT '';
CREATE INDEX IF NOT EXISTS tb_blog_user ON tb_blog (user_id, create_time DESC, id DESC);

-- Who liked which blog, and when (the course keeps this in a Redis sorted
-- set, blog:liked:{id}, scored by time); tb_blog.liked is the count shown.
CREATE TABLE IF NOT EXISTS tb_blog_like (
    blog_id     bigint      NOT NULL REFERENCES tb_blog (id) ON DELETE CASCADE,
    user_id     bigint      NOT NULL REFERENCES tb_user (id) ON DELETE CASCADE,
    create_time timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (blog_id, user_id)
);

CREATE TABLE IF NOT EXISTS tb_follow (
    user_id        bigint      NOT NULL REFERENCES tb_user (id) ON DELETE CASCADE,
    follow_user_id bigint      NOT NULL REFERENCES tb_user (id) ON DELETE CASCADE,
    create_time    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, follow_user_id)
);
CREATE INDEX IF NOT EXISTS tb_follow_followed ON tb_follow (follow_user_id);

-- A user's profile, for those who filled one in.  Fans and followees are
-- counted from tb_follow when asked, never stored apart from it.
CREATE TABLE IF NOT EXISTS tb_user_info (
    user_id   bigint PRIMARY KEY REFERENCES tb_user (id) ON DELETE CASCADE,
    city      varchar(64)  NOT NULL DEFAULT '',
    introduce varchar(128) NOT NULL DEFAULT '',
    gender    smallint     NOT NULL DEFAULT 0, -- 0 male, 1 female, as the course
    birthday  date,
    credits   int          NOT NULL DEFAULT 0,
    level     smallint     NOT NULL DEFAULT 0  -- 0 to 9; 0: no membership
);

-- Seed rows, written for this project: a few users, shops near the course's
-- map point (120.149993, 30.334229) in Hangzhou, their vouchers, blogs,
-- likes and follows.  Pictures are paths in the course's front-end folder
-- (/imgs/...), which the course's learners have; the project ships none.
-- Users: NOT EXISTS rather than ON CONFLICT, as a conflicting insert would
-- still take an id from the sequence at every start-up.  The phones are not
-- the 138/139 ones the tests make.
INSERT INTO tb_user (phone, nick_name, icon)
SELECT v.phone, v.nick_name, v.icon
FROM (VALUES
    ('13686869696', '小鱼同学', '/imgs/icons/icon1.jpg'),
    ('13838411438', '可可今天不吃肉', '/imgs/icons/kkjtbcr.jpg'),
    ('13600001001', '运河边的猫', '/imgs/icons/user5-icon.png'),
    ('13600001002', '阿哲吃遍拱墅', ''),
    ('13600001003', '周末去哪儿', '/imgs/icons/default-icon.png')
) AS v (phone, nick_name, icon)
WHERE NOT EXISTS (SELECT 1 FROM tb_user u WHERE u.phone = v.phone);
-- The first seed gave these two pictures the course's folder does not have.
UPDATE tb_user SET icon = v.icon
FROM (VALUES
    ('13686869696', '/imgs/icons/user1.jpg', '/imgs/icons/icon1.jpg'),
    ('13838411438', '/imgs/icons/user2.jpg', '/imgs/icons/kkjtbcr.jpg')
) AS v (phone, old_icon, icon)
WHERE tb_user.phone = v.phone AND tb_user.icon = v.old_icon;

INSERT INTO tb_shop_type (id, name, icon, sort) VALUES
    (1, '美食', '/types/ms.png', 1),
    (2, 'KTV', '/types/KTV.png', 2),
    (3, '丽人·美发', '/types/lrmf.png', 3),
    (4, '健身运动', '/types/jsyd.png', 4),
    (5, '按摩·足疗', '/types/amzl.png', 5),
    (6, '美容SPA', '/types/spa.png', 6),
    (7, '亲子游乐', '/types/qzyl.png', 7),
    (8, '酒吧', '/types/jiuba.png', 8),
    (9, '轰趴馆', '/types/hpg.png', 9),
    (10, '美睫·美甲', '/types/mjmj.png', 10)
ON CONFLICT (id) DO NOTHING;

-- DO UPDATE ... WHERE, not DO NOTHING: a shop made before its pictures and
-- map point existed gets them; one that has them is left as it is.
INSERT INTO tb_shop AS s (id, name, type_id, images, area, address, x, y, avg_price, sold, comments, score, open_hours)
VALUES
    (1, '103茶餐厅', 1,
     '/imgs/blogs/4/7/863cc302-d150-420d-a596-b16e9232a1a6.jpg,/imgs/blogs/11/12/8b37d208-9414-4e78-b065-9199647bb3e3.jpg,/imgs/blogs/4/1/fa74a6d6-3026-4cb7-b0b6-35abb1e52d11.jpg',
     '大关', '金华路锦昌文华苑29号', 120.149192, 30.316078, 80, 4215, 3035, 37, '10:00-22:00'),
    (2, '蔡馬洪涛烤肉·老北京铜锅涮羊肉', 1,
     '/imgs/blogs/7/14/4771fefb-1a87-4252-816c-9f7ec41ffa4a.jpg,/imgs/blogs/10/7/7e97f47d-eb49-4dc9-a583-95faa7aed287.jpg',
     '拱宸桥/上塘', '上塘路1035号（中国工商银行旁）', 120.151505, 30.333422, 88, 2160, 1460, 46, '11:30-03:00'),
    (3, '新白鹿餐厅(运河上街店)', 1,
     '/imgs/blogs/4/0/26a7cd7e-6320-432c-a0b4-1b7418f45ec7.jpg,/imgs/blogs/15/9/cea51d9b-ac15-49f6-b9f1-9cf81e9b9c85.jpg',
     '运河上街', '台州路2号运河上街购物中心F5', 120.151954, 30.324970, 61, 12035, 8045, 47, '10:30-21:00'),
    (4, 'Mamala(杭州远洋乐堤港店)', 1,
     '/imgs/blogs/4/10/2f07e3c9-ddce-482d-9ea7-c21450f8d7cd.jpg,/imgs/blogs/2/6/b0756279-65da-4f2d-b62a-33f74b06454a.jpg',
     '拱宸桥/上塘', '丽水路66号远洋乐堤港商城2期1层B115号', 120.146659, 30.338092, 290, 1460, 1213, 47, '10:00-22:00'),
    (5, '运河小馆·杭帮菜', 1, '/imgs/blogs/9/12/ac2ce2fb-0605-4f14-82cc-c962b8c86688.jpg',
     '拱宸桥/上塘', '小河路488号', 120.142030, 30.329510, 72, 860, 512, 45, '11:00-21:30'),
    (6, '拱宸桥老面馆', 1, '/imgs/blogs/11/12/8b37d208-9414-4e78-b065-9199647bb3e3.jpg',
     '拱宸桥/上塘', '桥弄街12号', 120.149810, 30.337240, 25, 5320, 2110, 44, '06:30-14:00'),
    (7, '声临其境KTV(大关店)', 2, '', '大关', '大关路100号大关商业中心3楼', 120.156020, 30.319030, 128, 3240, 1876, 43, '12:00-02:00'),
    (8, '星光量贩KTV(上塘店)', 2, '', '拱宸桥/上塘', '上塘路458号4楼', 120.156610, 30.304020, 98, 2015, 967, 41, '13:00-02:00'),
    (9, '剪影造型(运河上街店)', 3, '', '运河上街', '台州路2号运河上街购物中心F2', 120.152110, 30.325130, 168, 1302, 845, 48, '10:00-21:30'),
    (10, '燃动健身工作室', 4, '', '拱宸桥/上塘', '丽水路55号2楼', 120.146230, 30.337520, 60, 640, 233, 46, '07:00-22:00'),
    (11, '静心足道(拱宸桥店)', 5, '', '拱宸桥/上塘', '小河路320号', 120.143340, 30.324510, 158, 2786, 1390, 45, '12:00-01:00'),
    (12, '沐兰SPA', 6, '', '大关', '东新路699号', 120.160830, 30.314020, 398, 412, 208, 47, '10:00-22:00'),
    (13, '半山亲子乐园', 7, '/imgs/blogs/blog1.jpg', '半山', '半山路88号', 120.179010, 30.358020, 120, 1933, 1021, 45, '09:00-18:00'),
    (14, '运河边的酒馆', 8,
     '/imgs/blogs/1/2/4a7b496b-2a08-4af7-aa95-df2c3bd0ef97.jpg,/imgs/blogs/14/3/52b290eb-8b5d-403b-8373-ba0bb856d18e.jpg',
     '运河上街', '大兜路78号', 120.148520, 30.310210, 150, 1120, 688, 46, '18:00-02:00'),
    (15, '拾光轰趴馆', 9, '', '祥符', '祥园路28号', 120.134010, 30.339020, 88, 530, 301, 44, '10:00-08:00'),
    (16, '小鹿美甲美睫', 10, '', '拱宸桥/上塘', '丽水路66号远洋乐堤港B1', 120.146820, 30.337910, 139, 1688, 1012, 48, '10:00-22:00'),
    -- Beyond the course's 5 km: found by name, not among the shops nearby.
    (17, '湖滨烧鹅饭店', 1, '/imgs/blogs/4/0/26a7cd7e-6320-432c-a0b4-1b7418f45ec7.jpg',
     '湖滨', '平海路36号', 120.165230, 30.258510, 95, 3012, 1650, 45, '10:30-21:30')
ON CONFLICT (id) DO UPDATE SET
    images = EXCLUDED.images, x = EXCLUDED.x, y = EXCLUDED.y, sold = EXCLUDED.sold, comments = EXCLUDED.comments
WHERE s.x = 0 AND s.y = 0;

-- The flash sales' windows follow the day the database is made, so the
-- course's page (which hides a voucher whose end is past) shows one on
-- sale, one not yet begun, and hides the one that has ended.
INSERT INTO tb_voucher (id, shop_id, title, sub_title, rules, pay_value, actual_value, type) VALUES
    (1, 1, '50元代金券', '周一至周日均可使用', E'全场通用\n无需预约\n可无限叠加\n不兑现、不找零\n仅限堂食', 4750, 5000, 0),
    (2, 1, '100元代金券', '周一至周五可用', E'全场通用\n需提前一天预约\n每桌限用一张', 8000, 10000, 1),
    (3, 1, '双人下午茶套餐', '限时抢购，手慢无', E'含两杯丝袜奶茶、两份西多士\n仅限堂食', 3900, 6800, 1),
    (4, 4, '200元代金券', '节假日通用', E'全场通用\n每桌限用两张', 18000, 20000, 0),
    (5, 7, '欢唱3小时', '周一至周四 13:00-18:00', E'小包、中包可用\n含果盘一份', 6800, 12800, 1),
    (6, 11, '60分钟足疗', '全天可用', E'需提前预约\n不与其他优惠同享', 9900, 15800, 0)
ON CONFLICT (id) DO NOTHING;

INSERT INTO tb_seckill_voucher (voucher_id, stock, begin_time, end_time) VALUES
    (2, 100, date_trunc('day', now()), date_trunc('day', now()) + interval '1 year'),
    (3, 0, date_trunc('day', now()) - interval '60 days', date_trunc('day', now()) - interval '30 days'),
    (5, 30, date_trunc('day', now()) + interval '7 days', date_trunc('day', now()) + interval '1 year')
ON CONFLICT (voucher_id) DO NOTHING;

INSERT INTO tb_user_info (user_id, city, introduce, gender, birthday, credits, level)
SELECT u.id, v.city, v.introduce, v.gender, v.birthday, v.credits, v.level
FROM (VALUES
    ('13686869696', '杭州', '吃货一枚，周末都在找好吃的', 1, date '1998-06-12', 320, 2),
    ('13838411438', '杭州', '不吃肉，但是吃火锅🍲', 1, date '1996-11-03', 880, 3),
    ('13600001001', '杭州', '住在运河边，专拍小店和猫', 0, NULL, 150, 1),
    ('13600001003', '杭州', '带娃探店，周末去哪儿都行', 0, date '1990-02-20', 60, 0)
) AS v (phone, city, introduce, gender, birthday, credits, level)
JOIN tb_user u ON u.phone = v.phone
ON CONFLICT (user_id) DO NOTHING;

-- As for the shops: a blog made before its pictures existed gets them.
INSERT INTO tb_blog AS t (id, shop_id, user_id, title, images, content, liked, comments, create_time)
SELECT b.id, b.shop_id, u.id, b.title, b.images, b.content, b.liked, b.comments, b.created
FROM (VALUES
    (1, 4, '13686869696', '无尽浪漫的夜晚丨在万花丛中摇晃着红酒杯🍷品战斧牛排🥩',
     '/imgs/blogs/7/14/4771fefb-1a87-4252-816c-9f7ec41ffa4a.jpg,/imgs/blogs/4/10/2f07e3c9-ddce-482d-9ea7-c21450f8d7cd.jpg,/imgs/blogs/2/6/b0756279-65da-4f2d-b62a-33f74b06454a.jpg,/imgs/blogs/10/7/7e97f47d-eb49-4dc9-a583-95faa7aed287.jpg,/imgs/blogs/1/2/4a7b496b-2a08-4af7-aa95-df2c3bd0ef97.jpg,/imgs/blogs/14/3/52b290eb-8b5d-403b-8373-ba0bb856d18e.jpg',
     '生活就是一半烟火·一半诗意', 26, 104, timestamptz '2026-01-12 20:31:00+08'),
    (2, 1, '13838411438', '人均30💰杭州这家港式茶餐厅我疯狂打call‼️',
     '/imgs/blogs/4/7/863cc302-d150-420d-a596-b16e9232a1a6.jpg,/imgs/blogs/11/12/8b37d208-9414-4e78-b065-9199647bb3e3.jpg,/imgs/blogs/4/1/fa74a6d6-3026-4cb7-b0b6-35abb1e52d11.jpg,/imgs/blogs/9/12/ac2ce2fb-0605-4f14-82cc-c962b8c86688.jpg,/imgs/blogs/4/0/26a7cd7e-6320-432c-a0b4-1b7418f45ec7.jpg,/imgs/blogs/15/9/cea51d9b-ac15-49f6-b9f1-9cf81e9b9c85.jpg',
     '又吃到一家好吃的茶餐厅🍴', 11, 0, timestamptz '2026-01-20 12:05:00+08'),
    (3, 2, '13686869696', '杭州周末好去处｜💰50就可以骑马啦🐎', '/imgs/blogs/blog1.jpg',
     '杭州周末好去处', 9, 2, timestamptz '2026-02-01 09:40:00+08'),
    (4, 3, '13838411438', '运河边的老字号，一家三代都爱吃',
     '/imgs/blogs/4/0/26a7cd7e-6320-432c-a0b4-1b7418f45ec7.jpg,/imgs/blogs/15/9/cea51d9b-ac15-49f6-b9f1-9cf81e9b9c85.jpg',
     '新白鹿的口味一直没变', 4, 1, timestamptz '2026-02-08 18:22:00+08'),
    (5, 5, '13600001001', '运河边吃一顿地道杭帮菜｜东坡肉入口即化😋',
     '/imgs/blogs/9/12/ac2ce2fb-0605-4f14-82cc-c962b8c86688.jpg,/imgs/blogs/11/12/8b37d208-9414-4e78-b065-9199647bb3e3.jpg',
     '小河路上一家开了十几年的小馆子，老板是拱墅本地人。<br/><br/>✔️东坡肉：肥而不腻，筷子一夹就开<br/>✔️西湖醋鱼：酸甜刚好，鱼很新鲜<br/>✔️油爆虾：壳脆肉弹，下饭神器<br/><br/>📍小河路488号，饭点要排队，建议11点前到。',
     18, 6, timestamptz '2026-03-03 19:10:00+08'),
    (6, 6, '13600001002', '早上六点半的片儿川，是拱宸桥的烟火气🍜',
     '/imgs/blogs/11/12/8b37d208-9414-4e78-b065-9199647bb3e3.jpg',
     '桥弄街里的老面馆，六点半开门就有人在等。<br/>片儿川的笋片和雪菜是现炒的，面汤很鲜。<br/>一碗25元，加一个荷包蛋再加3元。<br/><br/>吃完沿着运河走到拱宸桥，刚好看日出🌅',
     7, 3, timestamptz '2026-03-15 07:25:00+08'),
    (7, 14, '13838411438', '下班后去运河边小酌一杯🍻｜精酿配烤肠绝了',
     '/imgs/blogs/1/2/4a7b496b-2a08-4af7-aa95-df2c3bd0ef97.jpg,/imgs/blogs/14/3/52b290eb-8b5d-403b-8373-ba0bb856d18e.jpg',
     '大兜路上的小酒馆，窗外就是运河夜景。<br/><br/>🍺今日精酿：桂花小麦，淡淡花香<br/>🌭手工烤肠：外皮脆，一口爆汁<br/><br/>周三有驻唱，人均150左右。',
     15, 4, timestamptz '2026-03-28 21:48:00+08'),
    (8, 13, '13600001003', '带娃周末好去处｜半山亲子乐园可以喂小马🐴',
     '/imgs/blogs/blog1.jpg',
     '周末带四岁的女儿来玩了一整天。<br/>室内有沙池和攀爬区，室外可以喂小马、骑小马。<br/>门票含一份小马饲料，记得带湿巾！',
     5, 1, timestamptz '2026-04-05 16:30:00+08'),
    (9, 7, '13600001002', '声临其境KTV｜音响效果对得起价格🎤',
     '/imgs/blogs/4/1/fa74a6d6-3026-4cb7-b0b6-35abb1e52d11.jpg',
     '中包坐八个人刚好，话筒不啸叫，曲库更新也快。<br/>下午场买了“欢唱3小时”的券，很划算。<br/>果盘一般，小吃可以点炸鸡翅。',
     3, 0, timestamptz '2026-04-12 22:15:00+08'),
    (10, 2, '13600001001', '老北京铜锅涮羊肉，冬天就该这么吃🔥',
     '/imgs/blogs/7/14/4771fefb-1a87-4252-816c-9f7ec41ffa4a.jpg,/imgs/blogs/10/7/7e97f47d-eb49-4dc9-a583-95faa7aed287.jpg',
     '炭火铜锅，清汤里只放了葱姜和枸杞。<br/>手切羊肉薄厚均匀，涮十秒就能吃。<br/>麻酱是自己调的，加一点韭菜花更香。<br/><br/>营业到凌晨三点，夜宵党的福音。',
     12, 5, timestamptz '2026-01-06 20:02:00+08')
) AS b (id, shop_id, phone, title, images, content, liked, comments, created)
JOIN tb_user u ON u.phone = b.phone
ON CONFLICT (id) DO UPDATE SET images = EXCLUDED.images
WHERE t.images = '';

INSERT INTO tb_blog_like (blog_id, user_id, create_time)
SELECT v.blog_id, u.id, v.at
FROM (VALUES
    (1, '13838411438', timestamptz '2026-01-12 21:00:00+08'),
    (1, '13600001001', timestamptz '2026-01-13 08:12:00+08'),
    (1, '13600001002', timestamptz '2026-01-13 12:40:00+08'),
    (1, '13600001003', timestamptz '2026-01-14 19:05:00+08'),
    (2, '13686869696', timestamptz '2026-01-20 13:00:00+08'),
    (2, '13600001001', timestamptz '2026-01-21 10:30:00+08'),
    (3, '13838411438', timestamptz '2026-02-01 10:00:00+08'),
    (5, '13686869696', timestamptz '2026-03-03 20:00:00+08'),
    (5, '13838411438', timestamptz '2026-03-04 09:15:00+08'),
    (5, '13600001002', timestamptz '2026-03-05 18:20:00+08'),
    (7, '13686869696', timestamptz '2026-03-28 22:10:00+08'),
    (7, '13600001001', timestamptz '2026-03-29 08:00:00+08'),
    (7, '13600001003', timestamptz '2026-03-30 12:30:00+08'),
    (10, '13838411438', timestamptz '2026-01-06 21:00:00+08'),
    (10, '13600001002', timestamptz '2026-01-07 07:45:00+08')
) AS v (blog_id, phone, at)
JOIN tb_user u ON u.phone = v.phone
ON CONFLICT (blog_id, user_id) DO NOTHING;

INSERT INTO tb_follow (user_id, follow_user_id, create_time)
SELECT fan.id, followed.id, v.at
FROM (VALUES
    ('13686869696', '13838411438', timestamptz '2026-01-02 10:00:00+08'),
    ('13686869696', '13600001001', timestamptz '2026-03-04 09:00:00+08'),
    ('13686869696', '13600001002', timestamptz '2026-03-16 08:00:00+08'),
    ('13838411438', '13686869696', timestamptz '2026-01-02 11:00:00+08'),
    ('13838411438', '13600001001', timestamptz '2026-03-04 09:20:00+08'),
    ('13838411438', '13600001002', timestamptz '2026-03-16 12:00:00+08'),
    ('13600001001', '13838411438', timestamptz '2026-03-05 20:00:00+08'),
    ('13600001002', '13686869696', timestamptz '2026-01-13 12:41:00+08'),
    ('13600001002', '13838411438', timestamptz '2026-03-05 18:21:00+08'),
    ('13600001003', '13838411438', timestamptz '2026-03-30 12:31:00+08'),
    ('13600001003', '13600001001', timestamptz '2026-04-01 15:00:00+08')
) AS v (fan, followed_phone, at)
JOIN tb_user fan ON fan.phone = v.fan
JOIN tb_user followed ON followed.phone = v.followed_phone
ON CONFLICT (user_id, follow_user_id) DO NOTHING;
