// A function that ships its own dependency in node_modules, as a Lambda zip would.
const titleCase = require('title-case');

exports.handler = async (event) => ({ title: titleCase(event.text ?? 'laminar runs lambda functions') });
