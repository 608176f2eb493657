using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Dot.Api.Access;
using Dot.Api.Audit;
using Dot.Api.Authentication;
using Dot.Api.Infrastructure;
using Dot.Api.Users;
using Dot.Api.Validation;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Dot.Api.Sessions;

/// <summary>Sign-in, sign-out and the first run, for the Settings / Users page.</summary>
internal static partial class SessionApi
{
    /// <summary>
    /// The one answer to a wrong email, a wrong password or a user without a password, so it does not tell which; it
    /// says how a user without a password gets one.
    /// </summary>
    public const string WrongEmailOrPassword = "Wrong email or password. A user without a password gets one with "
        + "`dot-api users set-password --email E --password-stdin`, or from an admin on this page.";

    public static RouteGroupBuilder MapSessions(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/session")
            .WithTags("Session");

        group.MapGet("/", GetAsync)
            .WithName("GetSession")
            .WithSummary("The web session")
            .WithDescription("The signed-in user (null when signed out), whether the first admin must still be created, and the anti-forgery token that every change made with the session cookie sends in the X-CSRF-TOKEN header.");

        group.MapPost("/sign-in", SignInAsync)
            .RequireSessionAntiforgery()
            .WithName("SignIn")
            .WithExampleBody(new SignInRequest("ada@example.com", "correct horse battery staple"))
            .WithSummary("Sign in with email and password")
            .WithDescription("Sets the session cookie. A wrong password and an unknown email get the same 401. Needs the X-CSRF-TOKEN header from GET /api/session.");

        group.MapPost("/sign-out", SignOutAsync)
            .WithName("SignOut")
            .WithSummary("Sign out")
            .WithDescription("Ends the session on the server (no copy of the cookie works after) and deletes the cookie.");

        group.MapPost("/setup", SetupAsync)
            .RequireSessionAntiforgery()
            .WithName("CreateFirstAdmin")
            .WithExampleBody(new SetupRequest("ada@example.com", "Ada Lovelace", "correct horse battery staple", null))
            .WithSummary("First run: create the first admin")
            .WithDescription("Only while no user exists (409 after), and only from a loopback address (a request carrying X-Forwarded-For or Forwarded from a peer that is not a known proxy is not one) unless Dot:Setup:Key is configured, in which case setup_key must match (403 otherwise). Signs the new admin in.");

        return group;
    }

    private static async Task<Ok<SessionDto>> GetAsync(HttpContext context, UserService users, IAntiforgery antiforgery,
        IOptions<SetupOptions> setup, CancellationToken ct)
    {
        var setupRequired = !context.User.IsSession() && !await users.AnyAsync(ct);
        return TypedResults.Ok(Describe(context, antiforgery, setup.Value, setupRequired));
    }

    private static async Task<Results<Ok<SessionDto>, InvalidProblem, RefusalProblem, ForbiddenProblem>> SignInAsync(SignInRequest request, HttpContext context,
        UserService users, SessionStore sessions, IAntiforgery antiforgery, IOptions<SetupOptions> setup, ILoggerFactory loggers,
        FailureThrottle throttle, AuthFailureAudit failures, CancellationToken ct)
    {
        // A web session is an unscoped credential: a scoped or address-bound token never opens one (API.md §2).
        if (Minting.UnrestrictedRefusal(context.User) is { } refused)
        {
            return refused;
        }

        // Password guessing is throttled with the same per-address budget as token guessing.
        var address = context.Connection.RemoteIpAddress;
        if (throttle.RetryAfterSeconds(address) is { } retryAfter)
        {
            context.Response.Headers.RetryAfter = retryAfter.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Problems.Refusal(StatusCodes.Status429TooManyRequests, $"Too many failed attempts from this address; try again in {retryAfter} seconds.", "throttled");
        }

        var errors = new FieldErrors();
        if (string.IsNullOrWhiteSpace(request.Email))
        {
            errors.Add("email", "email is required.");
        }

        if (string.IsNullOrEmpty(request.Password))
        {
            errors.Add("password", "password is required.");
        }

        if (!errors.IsEmpty)
        {
            return errors.ToProblem();
        }

        var logger = loggers.CreateLogger(typeof(SessionApi));
        var user = request.Password!.Length > UserService.MaxPasswordLength || request.Email!.Length > User.MaxEmailLength
            ? null
            : await users.CheckPasswordAsync(request.Email, request.Password, ct);
        if (user is null)
        {
            throttle.RecordFailure(address);
            failures.Record(address, "invalid_credentials", null);
            Log.SignInRefused(logger, "invalid_credentials");
            return Problems.Refusal(StatusCodes.Status401Unauthorized, WrongEmailOrPassword, "invalid_credentials");
        }

        if (user.Disabled)
        {
            Log.SignInRefused(logger, "disabled_user");
            return Problems.Refusal(StatusCodes.Status403Forbidden, "This account is disabled: ask an admin to enable it.", "disabled_user");
        }

        await StartSessionAsync(context, sessions, user, ct);
        Log.SignedIn(logger, user.Id);
        return TypedResults.Ok(Describe(context, antiforgery, setup.Value, setupRequired: false));
    }

    private static async Task<NoContent> SignOutAsync(HttpContext context, SessionStore sessions, ILoggerFactory loggers, CancellationToken ct)
    {
        if (context.User.IsSession())
        {
            if (context.User.SessionId() is { } sessionId)
            {
                await sessions.EndAsync(sessionId, ct);
            }

            Log.SignedOut(loggers.CreateLogger(typeof(SessionApi)), context.User.UserId());
        }

        await context.SignOutAsync(SessionDefaults.AuthenticationScheme);
        return TypedResults.NoContent();
    }

    private static async Task<Results<Created<SessionDto>, InvalidProblem, ConflictProblem, RefusalProblem>> SetupAsync(SetupRequest request, HttpContext context,
        UserService users, SessionStore sessions, IAntiforgery antiforgery, IOptions<SetupOptions> setup, ILoggerFactory loggers,
        CancellationToken ct)
    {
        var logger = loggers.CreateLogger(typeof(SessionApi));
        if (await users.AnyAsync(ct))
        {
            return Problems.Conflict("Setup is done: a user exists. Sign in instead.");
        }

        if (RefuseSetup(context, setup.Value, request.SetupKey) is { } refusal)
        {
            Log.SetupRefused(logger, refusal.Reason);
            return Problems.Refusal(StatusCodes.Status403Forbidden, refusal.Detail, refusal.Reason);
        }

        var errors = new FieldErrors();
        UserService.ValidateEmail(request.Email, errors);
        UserService.ValidateName(request.Name, errors);
        if (string.IsNullOrEmpty(request.Password))
        {
            errors.Add("password", "password is required.");
        }

        UserService.ValidatePassword(request.Password, errors);
        if (!errors.IsEmpty)
        {
            return errors.ToProblem();
        }

        var user = await users.CreateFirstAdminAsync(request.Email!, request.Name, request.Password!, ct);
        if (user is null)
        {
            return Problems.Conflict("Setup is done: a user exists. Sign in instead.");
        }

        await StartSessionAsync(context, sessions, user, ct);
        Log.FirstAdminCreated(logger, user.Id);
        return TypedResults.Created($"/api/users/{user.Id}", Describe(context, antiforgery, setup.Value, setupRequired: false));
    }

    /// <summary>Null when this request may create the first admin; otherwise why not.</summary>
    private static (string Reason, string Detail)? RefuseSetup(HttpContext context, SetupOptions setup, string? key)
    {
        if (setup.KeyRequired)
        {
            return KeyMatches(setup.Key!, key)
                ? null
                : ("setup_key_invalid", "The setup key is missing or wrong: give the value of Dot:Setup:Key.");
        }

        return context.IsLoopbackRequest()
            ? null
            : ("setup_not_local", "The first admin can be created only from the server itself (a loopback address), or from anywhere with the key set in Dot:Setup:Key.");
    }

    private static bool KeyMatches(string expected, string? given)
        => given is not null && CryptographicOperations.FixedTimeEquals(
            SHA256.HashData(Encoding.UTF8.GetBytes(expected)), SHA256.HashData(Encoding.UTF8.GetBytes(given)));

    /// <summary>A <see cref="UserSession"/> row, and the cookie that names it.</summary>
    private static async Task StartSessionAsync(HttpContext context, SessionStore sessions, User user, CancellationToken ct)
    {
        var session = await sessions.StartAsync(user.Id, ct);
        var principal = SessionDefaults.CreatePrincipal(session.Id, user.Id, user.Email, user.Name, user.Role);
        var properties = new AuthenticationProperties { IsPersistent = false, AllowRefresh = true };
        properties.Items[SessionCookieEvents.PasswordStampKey] = UserService.PasswordStamp(user.PasswordHash);
        await context.SignInAsync(SessionDefaults.AuthenticationScheme, principal, properties);

        // The anti-forgery token made next must belong to the new user, not to the anonymous caller.
        context.User = principal;
    }

    private static SessionDto Describe(HttpContext context, IAntiforgery antiforgery, SetupOptions setup, bool setupRequired)
    {
        var caller = context.User;
        var user = caller.IsSession()
            ? new SessionUserDto(caller.UserId(), caller.FindFirstValue(ClaimTypes.Email) ?? string.Empty,
                caller.FindFirstValue(ClaimTypes.Name) ?? string.Empty, caller.Role().ToName())
            : null;
        var tokens = antiforgery.GetAndStoreTokens(context);
        return new SessionDto(user, setupRequired, setupRequired && (setup.KeyRequired || context.IsLoopbackRequest()),
            setupRequired && setup.KeyRequired, tokens.RequestToken!, SessionDefaults.AntiforgeryHeaderName);
    }

    private static partial class Log
    {
        [LoggerMessage(31, LogLevel.Information, "Signed in user {UserId}")]
        public static partial void SignedIn(ILogger logger, Guid userId);

        [LoggerMessage(35, LogLevel.Information, "Signed out user {UserId}")]
        public static partial void SignedOut(ILogger logger, Guid userId);

        [LoggerMessage(32, LogLevel.Information, "Sign-in refused: {Reason}")]
        public static partial void SignInRefused(ILogger logger, string reason);

        [LoggerMessage(33, LogLevel.Warning, "First admin {UserId} created by the first-run form")]
        public static partial void FirstAdminCreated(ILogger logger, Guid userId);

        [LoggerMessage(34, LogLevel.Warning, "First-run form refused: {Reason}")]
        public static partial void SetupRefused(ILogger logger, string reason);
    }
}
