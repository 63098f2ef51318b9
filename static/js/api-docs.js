/* The API docs page: Swagger UI over the OpenAPI document this server serves. */
(function () {
  "use strict";
  const el = document.getElementById("swagger");
  if (!el || !window.SwaggerUIBundle) return;
  window.ui = window.SwaggerUIBundle({
    url: el.dataset.openapiUrl,
    dom_id: "#swagger",
    deepLinking: true,
    docExpansion: "none",
    filter: true,
  });
})();
