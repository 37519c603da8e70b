// Argument checks: what classifier.d.ts declares, enforced at run time, for the page
// Classifier, the WorkerClassifier (before posting, so the error type survives) and the
// worker itself (which runs a page Classifier). The errors name the argument and show the value.

/** A short description of a value for error messages: `null`, `number 123`, `array`, `object`. */
export function describeValue(value) {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  switch (typeof value) {
    case 'number': case 'bigint': case 'boolean': return `${typeof value} ${String(value)}`;
    case 'string': return `string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
    case 'object': {
      const name = Object.getPrototypeOf(value)?.constructor?.name;
      return name && name !== 'Object' ? `${name} object` : 'object';
    }
    default: return typeof value; // undefined, function, symbol
  }
}

/** `text` itself; a TypeError unless it is a string. `what`: 'classify: text'. */
export function checkText(text, what) {
  if (typeof text !== 'string') throw new TypeError(`${what} must be a string, got ${describeValue(text)}`);
  return text;
}

/** The texts as an array; a TypeError naming the first non-string's index. */
export function checkTexts(texts, method) {
  const iterable = texts != null && typeof texts !== 'string' && typeof texts[Symbol.iterator] === 'function';
  if (!iterable) {
    throw new TypeError(`${method}: texts must be an array (or iterable) of strings, got ${describeValue(texts)}`);
  }
  const list = Array.from(texts);
  list.forEach((t, i) => checkText(t, `${method}: texts[${i}]`));
  return list;
}

/** A TypeError for a non-number, a RangeError for NaN and ±Infinity. */
export function checkThreshold(threshold, what) {
  if (typeof threshold !== 'number') {
    throw new TypeError(`${what} must be a finite number, got ${describeValue(threshold)}`);
  }
  if (!Number.isFinite(threshold)) throw new RangeError(`${what} must be a finite number, got ${threshold}`);
  return threshold;
}

/** `options` (undefined or { topK?, threshold?, evidence? }), checked. */
export function checkOptions(options, method) {
  if (options === undefined) return options;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`${method}: options must be an object, got ${describeValue(options)}`);
  }
  if (options.threshold !== undefined) checkThreshold(options.threshold, `${method}: options.threshold`);
  const { topK } = options;
  if (topK !== undefined) {
    if (typeof topK !== 'number') {
      throw new TypeError(`${method}: options.topK must be a positive integer, got ${describeValue(topK)}`);
    }
    if (!Number.isInteger(topK) || topK < 1) {
      throw new RangeError(`${method}: options.topK must be a positive integer, got ${topK}`);
    }
  }
  return options;
}
