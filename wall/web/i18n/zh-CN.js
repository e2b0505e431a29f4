// Simplified Chinese, the default language of every page. Keys: see en.js (the same set).
export default {
  dateLocale: "zh-CN",
  lang: "English",
  token: "访问令牌", login: "登录", logout: "退出",
  connecting: "连接中…", disconnected: "与服务器断开，正在重连…",

  // pages
  "title.live": "实时视频 · citywall", "title.console": "控制台 · citywall", "title.wall": "大屏 · citywall",
  "console.wallsNav": "大屏", "console.preview": "大屏预览",
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

  // why a stream is not live (camera.health's reason)
  "reason.unauthorized": "摄像机拒绝认证", "reason.not_found": "摄像机上无此码流路径",
  "reason.refused": "摄像机拒绝连接", "reason.dns": "摄像机地址无法解析",
  "reason.timeout": "摄像机无响应", "reason.stalled": "码流长时间无数据", "reason.ended": "摄像机结束了码流",
  "reason.no_video": "码流中没有视频", "reason.error": "码流错误",

  // roles, tile kinds, audit actions and causes
  "role.admin": "管理员", "role.duty_officer": "值班长", "role.operator": "操作员",
  "role.grid_worker": "网格员", "role.viewer": "观看者",
  "kind.camera": "摄像机", "kind.tour": "轮巡", "kind.text": "文字", "kind.clock": "时钟", "kind.image": "图片",
  "kind.map": "地图", "kind.sensor": "传感器", "kind.alarm_list": "告警列表", "kind.case_list": "事件列表",
  "kind.grid_stats": "网格统计", "kind.empty": "空白",
  "audit.wall.activate_layout": "切换预案", "audit.wall.push_tile": "推送上墙",
  "audit.wall.clear_tile": "清空窗口", "audit.wall.tile_back": "恢复窗口", "audit.wall.revert": "恢复原预案",
  "audit.layout.create": "新建预案", "audit.layout.update": "修改预案", "audit.layout.delete": "删除预案",
  "audit.alarm.clear": "解除告警", "audit.alarm.acknowledge": "确认告警",
  "audit.alarm.forced_ack": "强制确认告警", "audit.detection.condition.set": "设置条件",
  "cause.operator": "人工", "cause.rule": "规则", "cause.schedule": "定时", "cause.alarm": "告警",
  "cause.revert": "恢复",

  // the API's machine error codes ({"error": code, "message", "details"})
  "error.unauthorized": "令牌无效", "error.forbidden": "此令牌无权执行此操作（角色或大屏不符）", "error.not_found": "不存在",
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
  "error.network": "无法连接服务", "error.unknown": "未知错误",
  "error.http_error": "服务拒绝了请求", "error.method_not_allowed": "不支持的请求方法",
  "error.camera_live": "摄像机暂无画面", "error.camera_unsupported_codec": "编码不支持（需 H.264）",
  "error.layout_invalid": "预案有错误", "error.condition_name_malformed": "条件名称格式错误",
  "error.alarm_key_invalid": "告警键无效", "error.alarm_severity_invalid": "告警级别无效", "error.limit_out_of_range": "数量超出范围",
  "error.detection_not_found": "检测事件不存在", "error.snapshot_not_found": "该事件没有抓图",
  "error.too_many_sessions_for_token": "此令牌打开的视频路数已达上限", "error.too_many_sessions_for_address": "此地址打开的视频路数已达上限",
  "error.live_capacity_full": "视频会话已满", "error.store_unavailable": "数据库繁忙，请稍后重试",
  "error.store_refused": "数据库拒绝了此修改", "error.token_not_found": "令牌不存在", "error.token_already_revoked": "令牌已被吊销",
  "error.invalid_token_request": "令牌请求无效", "error.docs_assets_missing": "未安装接口文档（请运行安装脚本）",
  "error.body_too_large": "请求体过大", "error.body_timeout": "请求体传输过慢", "error.header_timeout": "请求头传输过慢",
  "error.range_invalid": "时间范围的结束必须晚于开始", "error.bucket_invalid": "分桶宽度无效",
  "error.max_points_invalid": "点数无效", "error.limit_invalid": "数量超出范围",
  "error.station_not_found": "测站不存在",
};


