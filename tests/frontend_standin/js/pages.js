// The calls each of the course's browse pages makes, in its order, reading
// the fields it reads (a field missing or of another type fails here as it
// would there).  Written for this project after the course's pages.
"use strict";

const DEFAULT_ICON = "/imgs/icons/default-icon.png";
// The map point the course's shop-list.html sends.
const POINT = { x: 120.149993, y: 30.334229 };

function showBlogs(blogs) {
  blogs.forEach((b) => {
    const img = b.images.split(",")[0];
    show(`blog ${b.id}: ${b.title} | ${img} | ${b.liked} likes, ${b.comments} comments`);
  });
}

const pages = {
  index() {
    return Promise.all([
      axios.get("/shop-type/list").then(({ data }) => data.forEach((t) => show(`type ${t.name} /imgs/${t.icon}`))),
      axios.get("/blog/hot?current=1").then(({ data }) => data.forEach((b) => {
        b.img = b.images.split(",")[0];
        show(`hot ${b.title} | ${b.img} | ${b.icon || DEFAULT_ICON} ${b.name} | ${b.liked} ${b.isLike ? "♥" : "♡"}`);
      })),
    ]);
  },

  info() {
    return axios.get("/user/me").then(({ data: user }) => {
      show(`me ${user.nickName} ${user.icon || DEFAULT_ICON}`);
      return Promise.all([
        axios.get("/user/info/" + user.id).then(({ data }) => { if (data) show(`introduce ${data.introduce}`); }),
        axios.get("/blog/of/me").then(({ data }) => showBlogs(data)),
      ]);
    }, () => { location.href = "login.html"; });
  },

  "shop-list"() {
    const params = { typeId: util.getUrlParam("type"), current: 1, sortBy: "", ...POINT };
    return Promise.all([
      axios.get("/shop-type/list").then(({ data }) => show(`${data.length} types`)),
      axios.get("/shop/of/type", { params }).then(({ data }) => data.forEach((s) => {
        const far = s.distance < 1000 ? s.distance.toFixed(1) + "m" : (s.distance / 1000).toFixed(1) + "km";
        show(`shop ${s.name} | ${s.images.split(",")[0]} | ${s.score / 10}★ ${s.comments} | ${s.area} ${far} | ￥${s.avgPrice} | ${s.address}`);
      })),
    ]);
  },

  "shop-detail"() {
    const id = util.getUrlParam("id");
    const now = Date.now();
    return Promise.all([
      axios.get("/shop/" + id).then(({ data }) => {
        data.images = data.images.split(",");
        show(`shop ${data.name} | ${data.score / 10}★ ${data.comments} | ${data.images.length} pictures | ${data.address} | ${data.openHours}`);
      }),
      axios.get("/voucher/list/" + id).then(({ data }) => data
        .filter((v) => !(new Date(v.endTime).getTime() < now))  // the course's isEnd
        .forEach((v) => {
          let line = `voucher ${v.title} ${v.subTitle} ￥${util.formatPrice(v.payValue)} ${(v.payValue * 10) / v.actualValue}折`;
          if (v.type) {
            const begins = new Date(v.beginTime);
            if (isNaN(begins) || isNaN(new Date(v.endTime))) throw `voucher ${v.id}: no window`;
            line += ` | ${v.stock} left | ${begins.getTime() > now ? "not yet" : "on sale"}`;
          }
          show(line);
        })),
    ]);
  },

  "blog-detail"() {
    const id = util.getUrlParam("id");
    return axios.get("/blog/" + id).then(({ data: blog }) => {
      blog.images = blog.images.split(",");
      const at = new Date(blog.createTime);
      if (isNaN(at)) throw "createTime is no time";
      show(`blog ${blog.title} | ${blog.images.length} pictures | ${blog.icon || DEFAULT_ICON} ${blog.name} | ${at.getFullYear()}年${at.getMonth() + 1}月${at.getDate()}日 | ${blog.liked} ${blog.isLike ? "♥" : "♡"}`);
      document.getElementById("content").innerHTML = blog.content;  // the course's v-html
      document.getElementById("author").dataset.user = blog.userId;
      document.getElementById("like").onclick = () => axios.put("/blog/like/" + blog.id).catch(toast);
      return Promise.all([
        axios.get("/shop/" + blog.shopId).then(({ data }) => show(`shop ${data.name} ${data.images.split(",")[0]} ${data.score / 10}★ ￥${data.avgPrice}`)),
        axios.get("/blog/likes/" + id).then(({ data }) => data.forEach((u) => show(`liked by ${u.id} ${u.icon || DEFAULT_ICON}`))),
        axios.get("/user/me").then(({ data: me }) => {
          if (me.id !== blog.userId) {
            return axios.get("/follow/or/not/" + blog.userId).then(({ data }) => show(`followed: ${data}`));
          }
        }),
      ]);
    });
  },

  "other-info"() {
    const id = util.getUrlParam("id");
    return Promise.all([
      axios.get("/user/" + id).then(({ data: user }) => {
        show(`user ${user.nickName} ${user.icon || DEFAULT_ICON}`);
        return Promise.all([
          axios.get("/user/info/" + user.id).then(({ data }) => { if (data) show(`introduce ${data.introduce}`); }),
          axios.get("/blog/of/user", { params: { id: user.id, current: 1 } }).then(({ data }) => showBlogs(data)),
          axios.get("/follow/or/not/" + user.id).then(({ data }) => show(`followed: ${data}`)),
          // The course asks this when its "共同关注" tab is opened.
          axios.get("/follow/common/" + user.id).then(({ data }) => data.forEach((u) => show(`both follow ${u.nickName} ${u.icon || DEFAULT_ICON}`))),
        ]);
      }),
      axios.get("/user/me").then(({ data }) => show(`logged in as ${data.nickName}`)),
    ]);
  },
};
