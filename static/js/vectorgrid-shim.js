/* Leaflet.VectorGrid 1.3.0 (static/vendor/leaflet-vectorgrid, untouched) under Leaflet 1.9.
 * Loaded right after the vendored file.
 *
 * 1. Leaflet 1.8 removed L.DomEvent.fakeStop; VectorGrid's canvas tile renderer calls it when a
 *    click hits a feature. Same meaning as Leaflet 1.7: mark the event as handled, so the map
 *    (which checks `originalEvent._stopped`) does not also take it as a click on empty map.
 * 2. VectorGrid's canvas tile drops a click that hits no feature. Leaflet's own canvas renderer
 *    hands it to the map; do the same, or map clicks (closing popups, drawing an AOI) would not
 *    work wherever a tile lies.
 */
(function () {
  "use strict";
  if (!window.L || !L.Canvas || !L.Canvas.Tile) return;

  if (!L.DomEvent.fakeStop) {
    L.DomEvent.fakeStop = function (e) {
      e._stopped = true;
      return this;
    };
  }

  L.Canvas.Tile.prototype._onClick = function (e) {
    if (!this._map) return;
    const point = this._map.mouseEventToLayerPoint(e).subtract(this.getOffset());
    let clicked = null;
    for (const id in this._layers) {
      const layer = this._layers[id];
      if (layer.options.interactive && layer._containsPoint(point) && !this._map._draggableMoved(layer)) clicked = layer;
    }
    if (clicked) L.DomEvent.fakeStop(e);
    this._fireEvent(clicked ? [clicked] : false, e);
  };
})();
