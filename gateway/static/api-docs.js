// Starts Swagger UI on the API documentation page (gateway/templates/swagger_ui.html), from
// a file rather than an inline script, which the Content-Security-Policy forbids.
"use strict";
(function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.specUrl,
    domNode: root,
    deepLinking: true,
    validatorUrl: null,  // no badge from validator.swagger.io: nothing leaves the gateway
  });
})();
