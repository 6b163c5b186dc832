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

-- Seed rows: the stand-ins for the seed project's shop and blog pages.
-- NOT EXISTS rather than ON CONFLICT: a conflicting insert would still take
-- an id from the sequence at every start-up.
INSERT INTO tb_user (phone, nick_name, icon)
SELECT v.phone, v.nick_name, v.icon
FROM (VALUES
    ('13686869696', '小鱼同学', '/imgs/icons/user1.jpg'),
    ('13838411438', '可可今天不吃肉', '/imgs/icons/user2.jpg')
) AS v (phone, nick_name, icon)
WHERE NOT EXISTS (SELECT 1 FROM tb_user u WHERE u.phone = v.phone);

INSERT INTO tb_shop (id, name, type_id, area, address, avg_price, score, open_hours) VALUES
    (1, '103茶餐厅', 1, '大关', '金华路锦昌文华苑29号', 80, 37, '10:00-22:00'),
    (2, '蔡馬洪涛烤肉·老北京铜锅涮羊肉', 1, '拱宸桥/上塘', '上塘路1035号（中国工商银行旁）', 88, 46, '11:30-03:00'),
    (3, '新白鹿餐厅(运河上街店)', 1, '运河上街', '台州路2号运河上街购物中心F5', 61, 47, '10:30-21:00'),
    (4, 'Mamala(杭州远洋乐堤港店)', 1, '拱宸桥/上塘', '丽水路66号远洋乐堤港商城2期1层B115号', 290, 47, '10:00-22:00')
ON CONFLICT (id) DO NOTHING;

INSERT INTO tb_blog (id, shop_id, user_id, title, content, liked, comments)
SELECT b.id, b.shop_id, u.id, b.title, b.content, b.liked, b.comments
FROM (VALUES
    (1, 4, '13686869696', '无尽浪漫的夜晚丨在万花丛中摇晃着红酒杯🍷品战斧牛排🥩', '生活就是一半烟火·一半诗意', 26, 104),
    (2, 1, '13838411438', '人均30💰杭州这家港式茶餐厅我疯狂打call‼️', '又吃到一家好吃的茶餐厅🍴', 11, 0),
    (3, 2, '13686869696', '杭州周末好去处｜💰50就可以骑马啦🐎', '杭州周末好去处', 9, 2),
    (4, 3, '13838411438', '运河边的老字号，一家三代都爱吃', '新白鹿的口味一直没变', 4, 1)
) AS b (id, shop_id, phone, title, content, liked, comments)
JOIN tb_user u ON u.phone = b.phone
ON CONFLICT (id) DO NOTHING;
