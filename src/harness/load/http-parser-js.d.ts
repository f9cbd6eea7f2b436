/**
 * Types for the parts of `http-parser-js` (a pure-JS port of Node's http_parser) the loader uses.
 * The package ships none.
 */
declare module 'http-parser-js' {
  export interface ResponseInfo {
    statusCode: number;
    shouldKeepAlive: boolean;
    upgrade: boolean;
  }
  export class HTTPParser {
    static readonly REQUEST: 'REQUEST';
    static readonly RESPONSE: 'RESPONSE';
    static readonly kOnHeaders: 1;
    static readonly kOnHeadersComplete: 2;
    static readonly kOnBody: 3;
    static readonly kOnMessageComplete: 4;
    constructor(kind: 'REQUEST' | 'RESPONSE');
    execute(chunk: Buffer, start?: number, length?: number): number | Error;
    finish(): undefined | Error;
    reinitialize(kind: 'REQUEST' | 'RESPONSE'): void;
    [HTTPParser.kOnHeadersComplete]: (info: ResponseInfo) => boolean | undefined;
    [HTTPParser.kOnMessageComplete]: () => void;
    [HTTPParser.kOnBody]: (chunk: Buffer, start: number, len: number) => void;
    [HTTPParser.kOnHeaders]: (headers: string[], url: string) => void;
  }
}
