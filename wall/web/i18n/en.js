// English. The same keys as zh-CN.js; a key missing here falls back to Chinese.
export default {
  dateLocale: "en-GB",
  lang: "中文",
  token: "Access token", login: "Log in", logout: "Log out",
  connecting: "connecting…", disconnected: "disconnected, reconnecting…",

  // pages
  "title.live": "Live video · citywall", "title.console": "Console · citywall", "title.wall": "Wall · citywall",
  "console.wallsNav": "walls", "console.preview": "wall preview",
  "live.title": "Live video",
  "console.title": "Wall console", "console.layouts": "Layouts", "console.current": "On the wall",
  "console.cameras": "Cameras", "console.audit": "Audit trail", "console.alarms": "Alarms",
  "console.switch": "Switch", "console.active": "active", "console.rev": "rev",
  "console.hint": "Select a tile, then click a camera to push it to the wall; or drag a camera onto a tile.",
  "console.pushed": "pushed", "console.switched": "switched", "console.selectTile": "select a tile first",
  "console.ack": "Ack", "console.force": "Force", "console.ackedMsg": "alarm acknowledged",
  "console.forceAsk": "A forced ack also clears the alarm (audited). Continue?",

  // camera streams (health states)
  "stream.live": "live", "stream.connecting": "connecting", "stream.idle": "idle", "stream.offline": "signal lost",
  "stream.stalled": "stalled", "stream.unsupported_codec": "unsupported codec", "stream.error": "error",

  // wall tiles
  "tile.removed": "camera removed", "tile.noData": "no data yet", "tile.allOffline": "all sources offline",
  "tile.tourEmpty": "no camera to tour", "tile.noMap": "offline schematic (no base map)",

  // alarms
  "alarm.none": "no active alarms", "alarm.unavailable": "alarms unavailable", "alarm.acked": "acked",
  "alarm.unacked": "unacked", "alarm.latched": "cleared · awaiting ack",
  "severity.critical": "critical", "severity.major": "major", "severity.minor": "minor", "severity.warning": "warning",
  "severity.indeterminate": "indeterminate",
  "alarmType.crowding": "crowding", "alarmType.intrusion": "intrusion", "alarmType.loitering": "loitering",
  "alarmType.water_level": "water level",

  // why a stream is not live (camera.health's reason)
  "reason.unauthorized": "camera refused the credentials", "reason.not_found": "stream path not found on the camera",
  "reason.refused": "camera refused the connection", "reason.dns": "camera address does not resolve",
  "reason.timeout": "camera does not answer", "reason.stalled": "no packets for a while", "reason.ended": "the camera ended the stream",
  "reason.no_video": "the stream carries no video", "reason.error": "stream error",

  // roles, tile kinds, audit actions and causes
  "role.admin": "admin", "role.duty_officer": "duty officer", "role.operator": "operator",
  "role.grid_worker": "grid worker", "role.viewer": "viewer",
  "kind.camera": "camera", "kind.tour": "tour", "kind.text": "text", "kind.clock": "clock", "kind.image": "image",
  "kind.map": "map", "kind.sensor": "sensor", "kind.alarm_list": "alarm list", "kind.case_list": "case list",
  "kind.grid_stats": "grid statistics", "kind.empty": "empty",
  "audit.wall.activate_layout": "switched layout", "audit.wall.push_tile": "pushed to tile",
  "audit.wall.clear_tile": "cleared tile", "audit.wall.tile_back": "restored tile", "audit.wall.revert": "reverted",
  "audit.layout.create": "created layout", "audit.layout.update": "updated layout", "audit.layout.delete": "deleted layout",
  "audit.alarm.clear": "cleared alarm", "audit.alarm.acknowledge": "acknowledged alarm",
  "audit.alarm.forced_ack": "force-acknowledged alarm", "audit.detection.condition.set": "set condition",
  "cause.operator": "operator", "cause.rule": "rule", "cause.schedule": "schedule", "cause.alarm": "alarm",
  "cause.revert": "revert",

  // the API's machine error codes ({"error": code, "message", "details"})
  "error.unauthorized": "invalid token", "error.forbidden": "not allowed for this token (its role or its wall)", "error.not_found": "not found",
  "error.invalid_request": "invalid request", "error.too_many_requests": "too many requests, retry later",
  "error.camera_not_found": "no such camera", "error.camera_not_analysed": "camera not configured for analysis",
  "error.camera_offline": "camera signal lost", "error.camera_stalled": "camera picture stalled",
  "error.camera_connecting": "camera connecting", "error.camera_idle": "camera idle",
  "error.unsupported_codec": "unsupported codec (H.264 needed)", "error.too_many_viewers": "viewer limit reached",
  "error.bad_offer": "video negotiation failed", "error.shutting_down": "the service is stopping",
  "error.no_picture": "no picture yet", "error.session_not_found": "no such live session",
  "error.wall_not_found": "no such wall", "error.wall_busy": "too many wall commands queued, retry later",
  "error.panel_not_found": "no such panel", "error.tile_not_found": "no such tile",
  "error.layout_not_found": "no such layout", "error.layout_exists": "the layout exists already",
  "error.layout_in_use": "the layout is on a wall", "error.layout_does_not_fit": "the layout does not fit the wall",
  "error.layout_not_shown": "the tile's layout is not on the wall", "error.id_mismatch": "layout id mismatch",
  "error.alarm_not_found": "no such alarm", "error.already_acknowledged": "already acknowledged",
  "error.not_active": "the alarm is no longer active", "error.forced_ack_needs_admin": "a forced ack needs an admin",
  "error.network": "cannot reach the service", "error.unknown": "unknown error",
  "error.http_error": "the service refused the request", "error.method_not_allowed": "method not allowed",
  "error.camera_live": "camera sent no picture yet", "error.camera_unsupported_codec": "unsupported codec (H.264 needed)",
  "error.layout_invalid": "the layout has errors", "error.condition_name_malformed": "malformed condition name",
  "error.alarm_key_invalid": "invalid alarm key", "error.alarm_severity_invalid": "invalid alarm severity", "error.limit_out_of_range": "limit out of range",
  "error.detection_not_found": "no such detection event", "error.snapshot_not_found": "no snapshot for this event",
  "error.too_many_sessions_for_token": "this token has too many live views open", "error.too_many_sessions_for_address": "too many live views from this address",
  "error.live_capacity_full": "all live sessions are in use", "error.store_unavailable": "the database is busy, retry in a moment",
  "error.store_refused": "the database refused the change", "error.token_not_found": "no such token", "error.token_already_revoked": "the token is already revoked",
  "error.invalid_token_request": "invalid token request", "error.docs_assets_missing": "API docs are not installed (run the set-up)",
  "error.body_too_large": "request body too large", "error.body_timeout": "request body arrived too slowly", "error.header_timeout": "request headers arrived too slowly",
  "error.range_invalid": "the time range must end after it starts", "error.bucket_invalid": "invalid bucket width",
  "error.max_points_invalid": "invalid number of points", "error.limit_invalid": "limit out of range",
  "error.station_not_found": "no such station",
};


