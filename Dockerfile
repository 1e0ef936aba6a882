# T2I Studio container image.
#   CPU (default):  docker build -t t2istudio .
#   NVIDIA GPU:     docker build --target gpu -t t2istudio:gpu .   (CUDA 13 + cuDNN 9 runtime)
# Run:              docker run -p 8080:8080 -v t2i-data:/data t2istudio

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN dotnet publish src/T2IStudio.Web -c Release -o /out/app --nologo \
 && dotnet publish src/T2IStudio.Web -c Release -r linux-x64 --self-contained -o /out/app-gpu --nologo

# CPU: the ASP.NET Core runtime image. appsettings.json and wwwroot/ are published beside the app.
FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
COPY --from=build /out/app .
ENV ASPNETCORE_HTTP_PORTS=8080 \
    Storage__Root=/data
RUN mkdir -p /data && chown "$APP_UID" /data
VOLUME /data
EXPOSE 8080
USER $APP_UID
ENTRYPOINT ["dotnet", "T2IStudio.Web.dll"]

# GPU: CUDA 13 with cuDNN 9, which ONNX Runtime's CUDA provider needs; the app is self-contained.
FROM nvidia/cuda:13.0.0-cudnn-runtime-ubuntu24.04 AS gpu
RUN apt-get update && apt-get install -y --no-install-recommends libicu74 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --uid 1654 --create-home app \
 && mkdir -p /data && chown app /data
WORKDIR /app
COPY --from=build /out/app-gpu .
ENV ASPNETCORE_HTTP_PORTS=8080 \
    Storage__Root=/data
VOLUME /data
EXPOSE 8080
USER app
ENTRYPOINT ["./T2IStudio.Web"]

# Without --target, the CPU image is built.
FROM runtime
