namespace UserService.Model;

public static class Role
{
    public const string User = "user";
    public const string Admin = "admin";
}
