// Tiles whose data arrives with later capabilities (sensor, case_list,
// grid_stats): an honest "no data yet" placeholder, never fake numbers.
import { t } from "/static/locale.js";
import { placeholderView } from "/static/tiles/placeholder.js";

/** A placeholder naming what the tile will show. */
export function create(tile, c) {
  return placeholderView(t("tile.noData"), c.station_id || c.admin_unit_id || c.kind);
}
