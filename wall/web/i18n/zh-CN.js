// Simplified Chinese, the default language of every page. Keys: see en.js (the same set).
export default {
  dateLocale: "zh-CN",
  lang: "English",
  token: "访问令牌", login: "登录", logout: "退出",
  connecting: "连接中…", disconnected: "与服务器断开，正在重连…",

  // pages
  "live.title": "实时视频",
  "console.title": "大屏控制台", "console.layouts": "场景预案", "console.current": "当前画面",
  "console.cameras": "摄像机", "console.audit": "操作记录", "console.alarms": "告警",
  "console.switch": "切换", "console.active": "当前", "console.rev": "版本",
  "console.hint": "选择一个画面窗口，再点击摄像机推送上墙；也可直接拖放。",
  "console.pushed": "已推送", "console.switched": "已切换", "console.selectTile": "请先选择一个画面窗口",
  "console.ack": "确认", "console.force": "强制确认", "console.ackedMsg": "已确认告警",
  "console.forceAsk": "强制确认会同时解除该告警（记入操作记录）。继续？",

  // camera streams (health states)
  "stream.live": "在线", "stream.connecting": "连接中", "stream.idle": "待机", "stream.offline": "信号中断",
  "stream.stalled": "卡顿", "stream.unsupported_codec": "编码不支持", "stream.error": "错误",

  // wall tiles
  "tile.removed": "摄像机已移除", "tile.noData": "暂无数据", "tile.allOffline": "全部信号中断",
  "tile.tourEmpty": "轮巡无可用摄像机", "tile.noMap": "离线示意图（无底图）",

  // alarms
  "alarm.none": "暂无告警", "alarm.unavailable": "告警暂不可用", "alarm.acked": "已确认", "alarm.unacked": "未确认",
  "alarm.latched": "已解除·待确认",
  "severity.critical": "紧急", "severity.major": "重要", "severity.minor": "次要", "severity.warning": "警告",
  "severity.indeterminate": "不确定",
  "alarmType.crowding": "人员聚集", "alarmType.intrusion": "区域入侵", "alarmType.loitering": "逗留徘徊",
  "alarmType.water_level": "水位超限",

  // the API's machine error codes ({"error": code, "message", "details"})
  "error.unauthorized": "令牌无效", "error.forbidden": "无权执行此操作", "error.not_found": "不存在",
  "error.invalid_request": "请求无效", "error.too_many_requests": "请求过多，请稍后重试",
  "error.camera_not_found": "摄像机不存在", "error.camera_not_analysed": "该摄像机未配置智能分析",
  "error.camera_offline": "摄像机信号中断", "error.camera_stalled": "摄像机画面卡顿",
  "error.camera_connecting": "摄像机连接中", "error.camera_idle": "摄像机待机",
  "error.unsupported_codec": "编码不支持（需 H.264）", "error.too_many_viewers": "观看路数已达上限",
  "error.bad_offer": "浏览器视频协商失败", "error.shutting_down": "服务正在停止", "error.no_picture": "暂无画面",
  "error.session_not_found": "视频会话不存在",
  "error.wall_not_found": "大屏不存在", "error.wall_busy": "大屏指令排队过多，请稍后重试",
  "error.panel_not_found": "屏幕不存在", "error.tile_not_found": "画面窗口不存在",
  "error.layout_not_found": "预案不存在", "error.layout_exists": "预案已存在",
  "error.layout_in_use": "预案正在大屏上使用", "error.layout_does_not_fit": "预案与大屏尺寸不符",
  "error.layout_not_shown": "该窗口所属预案不在大屏上", "error.id_mismatch": "预案编号不一致",
  "error.alarm_not_found": "告警不存在", "error.already_acknowledged": "告警已确认",
  "error.not_active": "告警已解除", "error.forced_ack_needs_admin": "强制确认需要管理员权限",
};
