internal static class SecretParameters
{
    /// <summary>
    /// A secret parameter generated on the first run (letters and digits) and kept in the AppHost's
    /// user secrets (persist); azd generates it too when it deploys, and configuration
    /// (<c>Parameters:{name}</c>) overrides it.
    /// </summary>
    public static IResourceBuilder<ParameterResource> AddGeneratedSecret(this IDistributedApplicationBuilder builder, string name, int minLength = 64) =>
        builder.AddParameter(name, new GenerateParameterDefault { MinLength = minLength, Special = false }, secret: true, persist: true);
}
