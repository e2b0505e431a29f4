// Tile kinds → their modules. Each module exports create(tile, content, ctx),
// returning a view { el, close() } and optionally state() (the tile's
// data-state: live, connecting, lost), onTour(state) (tour steps from the
// display feed) and reuseKey (a live session a layout switch may hand on).
// A new kind is one new module and one line here.
import * as alarms from "/static/tiles/alarms.js";
import * as camera from "/static/tiles/camera.js";
import * as clock from "/static/tiles/clock.js";
import * as empty from "/static/tiles/empty.js";
import * as image from "/static/tiles/image.js";
import * as map from "/static/tiles/map.js";
import * as pending from "/static/tiles/pending.js";
import * as text from "/static/tiles/text.js";
import * as tour from "/static/tiles/tour.js";

const KINDS = {
  alarm_list: alarms,
  camera,
  case_list: pending,
  clock,
  empty,
  grid_stats: pending,
  image,
  map,
  sensor: pending,
  text,
  tour,
};

/**
 * The view of `tile` (a tile of a wall_state panel). `ctx`: token, scale, events,
 * health, alarms, cameras(), sessions, takeSpare(key), tourState(tileId).
 */
export function createTile(tile, ctx) {
  return (KINDS[tile.content.kind] ?? pending).create(tile, tile.content, ctx);
}
