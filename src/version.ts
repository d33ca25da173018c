// Skiff's version, kept equal to package.json's by a unit test: stored kernel choices are valid for one version.
export const SKIFF_VERSION = "0.1.0";
