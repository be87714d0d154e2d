// dmn-js 17's production bundle carries Inferno's development build, which reports exactly that with
// console.error on load ("a minified copy of the development build of Inferno"): a notice about the
// bundle, not an error of the page. Loaded before dmn-js, this drops that one message and nothing else.
(function () {
  var original = console.error;
  console.error = function () {
    var first = arguments[0];
    if (typeof first === 'string' && first.indexOf('minified copy of the development build of Inferno') >= 0) { return; }
    return original.apply(console, arguments);
  };
})();
