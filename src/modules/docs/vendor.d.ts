// Minimal typings for the converters we use that ship none.

declare module 'swagger2openapi' {
  interface ConvertOptions {
    patch?: boolean;
    warnOnly?: boolean;
    resolve?: boolean;
    direct?: boolean;
  }
  interface ConvertResult {
    openapi: Record<string, unknown>;
  }
  const swagger2openapi: {
    convertObj(swagger: Record<string, unknown>, options: ConvertOptions): Promise<ConvertResult>;
  };
  export default swagger2openapi;
}

declare module 'apib2swagger' {
  interface ConvertOptions {
    openApi3?: boolean;
    infoTitle?: string;
  }
  const apib2swagger: {
    convert(
      source: string,
      options: ConvertOptions,
      callback: (error: unknown, result: { swagger?: Record<string, unknown> }) => void,
    ): void;
  };
  export default apib2swagger;
}
