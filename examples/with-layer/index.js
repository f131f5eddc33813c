// A function whose dependency comes from a layer (examples/layers/string-tools), not its own zip.
const { slugify, reverse } = require('string-tools');

exports.handler = async (event) => {
  const text = event.text ?? 'Laminar runs Lambda layers';
  return { slug: slugify(text), reversed: reverse(text) };
};
