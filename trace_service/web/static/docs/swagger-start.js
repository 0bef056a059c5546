// Starts Swagger UI on the API documentation page (templates/swagger_ui.html). A file, not an
// inline script, so the Content-Security-Policy's script-src needs no 'unsafe-inline'.
"use strict";
window.addEventListener("load", function () {
  var container = document.getElementById("swagger-ui-container");
  var config = { url: JSON.parse(container.dataset.specUrl), dom_id: "#swagger-ui-container" };
  var overrides = JSON.parse(container.dataset.config || "{}");
  Object.keys(overrides).forEach(function (name) {
    config[name] = overrides[name];
  });
  window.ui = SwaggerUIBundle(config);
});
